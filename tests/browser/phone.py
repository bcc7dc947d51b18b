"""A phone for the browser tests: a Playwright page that checks every page it loads.

After each navigation (goto, a submitted form, a followed link) the phone
  1. photographs the page (full height) to <shots>/NN-<who>-<step>.png — before asserting, so a failing step's
     picture is kept;
  2. asserts no JavaScript error, console error (CSP violations are console errors) or 5xx answer happened;
  3. asserts the page is in the phone's language (<html lang>, the header's switch offers the other one);
  4. asserts the page fits a 375 px screen (`assert_fits`) and its bottom menu entries are not broken mid-word.
Every page load is counted; the `phone` fixture fails a test that loaded a page the phone never checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

VIEWPORT = {"width": 375, "height": 812}
LOCALES = {"zh": "zh-CN", "en": "en-US"}
SWITCH_TO = {"zh": "English", "en": "中文"}  # the header's language switch offers the other language
PO_FILE = Path(__file__).resolve().parents[2] / "app" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"

# Elements wider than the screen, ignoring those inside a container that scrolls or clips horizontally
# (a wide table inside its scroller div is fine as long as the scroller fits).
_OVERFLOW_JS = """
(width) => {
  const doc = document.documentElement;
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body && p !== doc; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      if (x !== 'visible') return true;
    }
    return false;
  };
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (el.classList.length) s += '.' + [...el.classList].join('.');
    const text = (el.innerText || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    const r = el.getBoundingClientRect();
    return `${s} [${Math.round(r.left)}..${Math.round(r.right)}] "${text}"`;
  };
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right <= width + 0.5 && r.left >= -0.5) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.position === 'absolute' && style.clip !== 'auto') continue;
    if (clipped(el)) continue;
    if (el.parentElement && wide.some((w) => w.el === el.parentElement)) { wide.push({el, nested: true}); continue; }
    wide.push({el, nested: false});
  }
  return {
    scrollWidth: Math.max(doc.scrollWidth, document.body.scrollWidth),
    offenders: wide.filter((w) => !w.nested).slice(0, 10).map((w) => describe(w.el)),
  };
}
"""


def assert_fits(page, width: int = VIEWPORT["width"]) -> None:
    """The page is no wider than the phone: no horizontal scroll and no element sticking out sideways."""
    found = page.evaluate(_OVERFLOW_JS, width)
    assert found["scrollWidth"] <= width and not found["offenders"], (
        f"{page.url} is wider than the {width} px screen: scrollWidth={found['scrollWidth']}, "
        f"overflowing: {found['offenders']}")


def assert_menu_readable(page) -> None:
    """Each entry of the bottom menu is on one line (not broken mid-word to squeeze seven entries into 375 px)."""
    broken = page.eval_on_selector_all(
        "nav.bottom a", """els => els.filter(a => {
            const line = parseFloat(getComputedStyle(a).lineHeight) || 24;
            const range = document.createRange(); range.selectNodeContents(a);
            return range.getBoundingClientRect().height > line * 1.5;
        }).map(a => a.innerText.replace(/\\s+/g, ' '))""")
    assert not broken, f"{page.url}: bottom menu entries wrap: {broken}"


@cache
def _zh_catalogue() -> dict[str, str]:
    with PO_FILE.open("rb") as handle:
        catalogue = read_po(handle)
    return {m.id: m.string for m in catalogue if isinstance(m.id, str) and m.string}


def tr(lang: str, msgid: str) -> str:
    """The text a page shows for `msgid` in `lang`. Chinese must really be translated (not fall back)."""
    if lang == "en":
        return msgid
    text = _zh_catalogue().get(msgid)
    assert text and text != msgid, f"no Chinese translation for {msgid!r}"
    return text


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


class Phone:
    def __init__(self, page, *, who: str, lang: str, base_url: str, shots: Path, counter: Iterator[int],
                 before_request: Callable[[], object]):
        self.page, self.who, self.lang, self.base_url = page, who, lang, base_url
        self.shots, self.counter, self.before_request = shots, counter, before_request
        self.problems: list[str] = []
        self.loads = self.checked = 0
        page.on("pageerror", lambda exc: self.problems.append(f"JavaScript error: {exc}"))
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("load", self._loaded)

    # --- listeners --------------------------------------------------------------------------------
    def _console(self, message) -> None:
        url = message.location.get("url", "")
        if message.type == "error" and not url.endswith("/favicon.ico"):  # the site has no icon; browsers ask
            self.problems.append(f"console error: {message.text} ({url})")

    def _response(self, response) -> None:
        if response.status >= 500:
            self.problems.append(f"{response.status} from {response.request.method} {response.url}")

    def _loaded(self, _page) -> None:
        self.loads += 1

    # --- checking ---------------------------------------------------------------------------------
    def t(self, msgid: str) -> str:
        return tr(self.lang, msgid)

    def snapshot(self, step: str) -> Path:
        path = self.shots / f"{next(self.counter):02d}-{self.who}-{_slug(step)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def check(self, step: str) -> None:
        """After a navigation: photograph, then assert the page raised nothing, is in the phone's language and fits."""
        self.page.wait_for_load_state("load")
        self.snapshot(step)
        self.checked = self.loads
        problems, self.problems = self.problems, []
        assert not problems, f"{self.page.url}: {problems}"
        expected = LOCALES[self.lang] if self.lang == "zh" else "en"
        assert self.page.get_attribute("html", "lang") == expected, f"{self.page.url} is not in {self.lang}"
        offered = self.page.locator('header.top button[name="lang"]').inner_text()
        assert offered == SWITCH_TO[self.lang], f"{self.page.url}: the header offers {offered!r}"
        assert_fits(self.page)
        assert_menu_readable(self.page)

    def assert_every_page_checked(self) -> None:
        assert self.loads == self.checked, (
            f"{self.who}'s phone loaded {self.loads - self.checked} page(s) the test never checked "
            f"(use Phone.goto / submit / follow); last: {self.page.url}")
        assert not self.problems, self.problems

    # --- acting -----------------------------------------------------------------------------------
    def goto(self, path: str, step: str):
        self.before_request()
        response = self.page.goto(self.base_url + path)
        self.check(step)
        return response

    def switch_language(self, step: str) -> None:
        """Press the header's language switch: the same page comes back in the other language."""
        other = next(code for code in LOCALES if code != self.lang)
        self.before_request()
        with self.page.expect_navigation(wait_until="load"):
            self.page.locator('header.top button[name="lang"]').click()
        self.lang = other
        self.check(step)

    def login(self, email: str, password: str) -> None:
        """Log in with the login form (the account's home page is then checked)."""
        self.goto("/login", "login")
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        self.submit(self.button("Log in"), "logged-in")

    def submit(self, locator, step: str):
        """Click a button or link that loads a new page; check that page."""
        self.before_request()
        with self.page.expect_navigation(wait_until="load") as navigation:
            locator.click()
        self.check(step)
        return navigation.value

    def button(self, msgid: str, *, exact: bool = True):
        """The (translated) button with this English label."""
        return self.page.get_by_role("button", name=self.t(msgid), exact=exact)

    def nav(self, msgid: str):
        """A link of the bottom menu."""
        return self.page.locator("nav.bottom").get_by_role("link", name=self.t(msgid), exact=True)

    def link(self, msgid: str, *, exact: bool = True):
        return self.page.get_by_role("link", name=self.t(msgid), exact=exact)

    def sees(self, msgid: str, **params) -> None:
        """The page shows this (translated) text somewhere."""
        text = self.t(msgid) % params if params else self.t(msgid)
        body = self.page.inner_text("body")
        assert text in body, f"{text!r} not on {self.page.url}"

    def text(self, selector: str = "body") -> str:
        return self.page.inner_text(selector)

    def path(self) -> str:
        return self.page.url.removeprefix(self.base_url)
