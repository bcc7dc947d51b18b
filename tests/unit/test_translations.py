"""The Chinese catalogue is complete, its placeholders match, and it is current with the source.

No app, no database: the catalogue is read with Babel and the source is re-extracted in-process
with the same method map as `make extract` (babel.cfg) and the same keywords (-k _l -k lazy_gettext).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from tokenize import TokenError

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import TemplateSyntaxError
from werkzeug.utils import ImportStringError, import_string

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
ZH_PO = ROOT / "app" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"

# `make extract` passes `-k _l -k lazy_gettext` on top of Babel's defaults (_, gettext, ngettext, ...).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
# Flask-Babel relies on Jinja2's own extractor; name it explicitly instead of the entry point.
JINJA2_EXTRACTOR = "jinja2.ext:babel_extract"

# printf-style conversions: %(name)s, %(n)d, %d, %s, %5.2f ...; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")


def _texts(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [v for v in value if v is not None]


def _placeholders(text: str) -> tuple[Counter, list[str]]:
    """Named placeholders as a multiset (order may change in translation); positional ones in order."""
    found = [p for p in PLACEHOLDER.findall(text) if p != "%%"]
    named = Counter(p for p in found if p.startswith("%("))
    positional = [p for p in found if not p.startswith("%(")]
    return named, positional


@pytest.fixture(scope="module")
def zh_catalog():
    assert ZH_PO.is_file(), f"{ZH_PO} is missing; run `make extract`."
    with ZH_PO.open("rb") as f:
        catalog = read_po(f, locale="zh")
    assert any(m.id for m in catalog), f"{ZH_PO} has no messages; run `make extract`."
    return catalog


def _messages(catalog):
    return [m for m in catalog if m.id]


def _label(message) -> str:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return f"{message.context}|{msgid}" if message.context else msgid


def test_every_message_is_translated_and_not_fuzzy(zh_catalog):
    untranslated = [_label(m) for m in _messages(zh_catalog)
                    if not _texts(m.string) or not all(s.strip() for s in _texts(m.string))]
    fuzzy = [_label(m) for m in _messages(zh_catalog) if m.fuzzy]
    problems = []
    if untranslated:
        problems.append(f"{len(untranslated)} untranslated:\n  " + "\n  ".join(untranslated))
    if fuzzy:
        problems.append(f"{len(fuzzy)} fuzzy (check the translation, then remove the flag):\n  "
                        + "\n  ".join(fuzzy))
    assert not problems, f"In {ZH_PO.relative_to(ROOT)}:\n" + "\n".join(problems)

def test_placeholders_match(zh_catalog):
    mismatched = []
    for message in _messages(zh_catalog):
        ids = _texts(message.id)
        wanted = [_placeholders(i) for i in ids]
        for translation in _texts(message.string):
            if not translation:
                continue  # reported by the completeness test
            got = _placeholders(translation)
            # A plural translation may match either the singular or the plural msgid.
            if got not in wanted:
                mismatched.append(f"{_label(message)!r} -> {translation!r}")
    assert not mismatched, "Placeholders differ between msgid and msgstr:\n  " + "\n  ".join(mismatched)


def _method_map():
    """babel.cfg's method map, with the jinja2 extractor named explicitly and usable options."""
    with BABEL_CFG.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(BABEL_CFG))
    methods = []
    options = {}
    for pattern, method in method_map:
        opts = dict(options_map.get(pattern, {}))
        if method in ("jinja2", "jinja2.ext.babel_extract", JINJA2_EXTRACTOR):
            method = JINJA2_EXTRACTOR
            # Old Flask-Babel configs list extensions that Jinja2 3 folded into the core
            # (jinja2.ext.autoescape, jinja2.ext.with_); keep only the ones that still import.
            if opts.get("extensions"):
                usable = []
                for name in (e.strip() for e in opts["extensions"].split(",")):
                    try:
                        if name:
                            import_string(name)
                            usable.append(name)
                    except ImportStringError:
                        pass
                opts["extensions"] = ",".join(usable)
            # Fail loudly on a template Jinja2 cannot parse instead of silently skipping its strings.
            opts.setdefault("silent", "false")
        methods.append((pattern, method))
        options[pattern] = opts
    return methods, options


def test_catalogue_is_current(zh_catalog):
    method_map, options_map = _method_map()
    assert method_map, f"{BABEL_CFG} maps no files"
    extracted = {}
    current_file = None

    def remember(filename, method, options):
        nonlocal current_file
        current_file = filename

    try:
        for filename, lineno, message, _comments, context in extract_from_dir(
                str(ROOT), method_map, options_map, keywords=KEYWORDS, callback=remember):
            msgid = message if isinstance(message, str) else message[0]
            if msgid:
                extracted.setdefault((msgid, context), f"{filename}:{lineno}")
    except (TemplateSyntaxError, SyntaxError, TokenError, UnicodeDecodeError) as exc:
        pytest.fail(f"Extracting messages failed in {current_file}: {exc!r}")

    assert extracted, "The extractor found no messages at all; check babel.cfg."
    missing = sorted(
        (f"{msgid!r} ({where})" if context is None else f"{context}|{msgid!r} ({where})")
        for (msgid, context), where in extracted.items()
        if zh_catalog.get(msgid, context=context) is None
    )
    assert not missing, (
        f"{len(missing)} message(s) in the source are not in {ZH_PO.relative_to(ROOT)}. "
        "Run `make extract` and translate them:\n  " + "\n  ".join(missing))
