"""Member-typed text, cleaned one way everywhere."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.core.errors import Invalid

# NUL and the bidirectional override/isolate characters that can disguise text (hostile-inputs.md).
_INVISIBLE = dict.fromkeys(map(ord, "\x00\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def clean_text(value: str | None, *, field: str, max_len: int, single_line: bool = False) -> str:
    """NUL and direction overrides removed, trimmed (one line: inner white space folded), non-empty, bounded."""
    text = (value or "").translate(_INVISIBLE).replace("\r\n", "\n").replace("\r", "\n")
    text = " ".join(text.split()) if single_line else text.strip()
    if not text:
        raise Invalid(_l("This field is required."), field=field)
    if len(text) > max_len:
        raise Invalid(_l("At most %(n)d characters.", n=max_len), field=field)
    return text
