"""The checks every browser test relies on catch what they claim to: a too-wide page, a squeezed bottom menu,
a JavaScript error, a CSP violation, the wrong language, a page nobody checked."""

from __future__ import annotations

import pytest

from tests.browser.phone import LOCALES, VIEWPORT, Phone, assert_fits, assert_menu_readable, tr


@pytest.fixture
def bare_page(chromium):
    context = chromium.new_context(viewport=VIEWPORT, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


HEAD = '<meta name="viewport" content="width=device-width, initial-scale=1"><style>body{margin:0}</style>'
ENGLISH_PAGE = ('<html lang="en"><head>' + HEAD
                + '</head><body><header class="top"><button name="lang">中文</button></header>')


def test_a_page_that_fits_passes(bare_page):
    bare_page.set_content(HEAD + "<p>短短一行</p><div style='overflow-x:auto'><table><tr>"
                          + "<td>很长的表格列</td>" * 30 + "</tr></table></div>")
    assert_fits(bare_page)  # the wide table scrolls inside its own scroller


@pytest.mark.parametrize("wide", [
    "<div style='width:420px'>固定宽度</div>",
    "<pre>" + "x" * 120 + "</pre>",
    "<p style='margin-left:300px;width:100px'>pushed out</p>",
], ids=["fixed-width", "long-line", "pushed-out"])
def test_a_page_wider_than_the_phone_fails(bare_page, wide):
    bare_page.set_content(HEAD + wide)
    with pytest.raises(AssertionError, match="wider than the 375 px screen"):
        assert_fits(bare_page)


def test_a_bottom_menu_squeezed_until_words_break_fails(bare_page):
    items = "".join(f"<a href='#'>{w}</a>" for w in ("Overview", "Dashboard", "Members", "Campaigns", "Money",
                                                      "Audit", "Knowledge base"))
    bare_page.set_content(HEAD + "<style>nav{display:flex} nav a{flex:1;overflow-wrap:anywhere}</style>"
                          + f"<nav class='bottom'>{items}</nav>")
    with pytest.raises(AssertionError, match="bottom menu entries wrap"):
        assert_menu_readable(bare_page)
    bare_page.set_content(HEAD + "<nav class='bottom'><a href='#'>班次</a><a href='#'>收入</a></nav>")
    assert_menu_readable(bare_page)


def _phone(page, shots):
    return Phone(page, who="t", lang="en", base_url="", shots=shots, counter=iter(range(1, 99)),
                 before_request=lambda: None)


def test_a_phone_fails_a_page_with_a_javascript_error_and_keeps_its_picture(bare_page, tmp_path):
    device = _phone(bare_page, tmp_path)
    bare_page.set_content(ENGLISH_PAGE + "<script>undefinedFunction()</script>")
    with pytest.raises(AssertionError, match="undefinedFunction"):
        device.check("js error")
    assert (tmp_path / "01-t-js-error.png").stat().st_size > 0


def test_a_phone_fails_a_page_in_the_wrong_language(bare_page, tmp_path):
    bare_page.set_content('<html lang="zh-CN"><head>' + HEAD + "</head><body><p>你好</p>")
    with pytest.raises(AssertionError, match="is not in en"):
        _phone(bare_page, tmp_path).check("wrong language")
    bare_page.set_content(ENGLISH_PAGE.replace("中文", "English") + "<p>Untranslated header</p>")
    with pytest.raises(AssertionError, match="the header offers 'English'"):
        _phone(bare_page, tmp_path).check("wrong switch")


def test_a_phone_fails_a_page_whose_inline_script_the_csp_blocks(bare_page, tmp_path):
    """The app's CSP allows scripts from 'self' only: an inline script is refused and logged as a console error."""
    bare_page.route("http://surgeline.test/", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=ENGLISH_PAGE + "<script>1</script>",
        headers={"Content-Security-Policy": "script-src 'self'"}))
    device = _phone(bare_page, tmp_path)
    bare_page.goto("http://surgeline.test/")
    with pytest.raises(AssertionError, match="Content Security Policy"):
        device.check("csp")


def test_a_page_loaded_but_never_checked_is_reported(bare_page, tmp_path):
    device = _phone(bare_page, tmp_path)
    bare_page.set_content(ENGLISH_PAGE + "<p>checked</p>")
    device.check("checked")
    device.assert_every_page_checked()
    bare_page.set_content(ENGLISH_PAGE + "<p>forgotten</p>")
    with pytest.raises(AssertionError, match="never checked"):
        device.assert_every_page_checked()


def test_chinese_wording_comes_from_the_catalogue():
    assert set(LOCALES) == {"zh", "en"}
    assert tr("en", "Log in") == "Log in"
    assert tr("zh", "Log in") not in ("", "Log in")
    with pytest.raises(AssertionError, match="no Chinese translation"):
        tr("zh", "A sentence nobody ever wrote into the catalogue")
