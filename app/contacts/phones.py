"""Phone numbers from call lists: normalise to E.164 with `phonenumbers` (region CN), explain rejections, mask.

Pure functions (no Flask, no database) so the importer, the console and the tests share them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, ValidationResult

REGION = "CN"

# Invisible characters people paste along with numbers: zero-width spaces/joiners, BOM, bidi marks.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                    "\u2066\u2067\u2068\u2069\u00ad"), None)
_SEPARATORS = re.compile(r"[\s\-–—()（）./·]+")
# Excel shows long numbers in scientific notation and keeps only 15 significant digits: 1.38001E+10.
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?[eE][+-]?\d+$")
# ...or as a float with a zero fraction when the column was numeric: 13800138000.0 (no digit lost).
_ZERO_FRACTION = re.compile(r"^(\+?\d+)\.0+$")
_PLAIN = re.compile(r"^\+?\d+$")
_CN_MOBILE = re.compile(r"^(?:\+?86)?(1\d{10})$")


class Reject(str):
    """A reason code for a rejected number (the importer turns codes into sentences)."""


EMPTY = Reject("phone_empty")
SCIENTIFIC = Reject("phone_scientific")
LETTERS = Reject("phone_letters")
TOO_SHORT = Reject("phone_too_short")
TOO_LONG = Reject("phone_too_long")
INVALID = Reject("phone_invalid")


@dataclass(frozen=True)
class Parsed:
    e164: str | None
    reason: Reject | None = None


def clean(raw: str) -> str:
    """Full-width digits and signs to ASCII (NFKC), invisible characters and surrounding space removed."""
    if not raw:
        return ""
    if raw.isascii():  # nothing for NFKC or the invisible-character table to do
        return raw.strip()
    return unicodedata.normalize("NFKC", raw).translate(_INVISIBLE).strip()


_CN_MOBILE_PREFIXES: dict[str, bool] = {}


def _cn_mobile_valid(number: str) -> bool:
    """Whether an 11-digit number starting 1… is valid depends only on its leading digits (the CN metadata
    patterns fix at most the first five); caching by the first seven saves phonenumbers' ~14 µs per row."""
    prefix = number[:7]
    valid = _CN_MOBILE_PREFIXES.get(prefix)
    if valid is None:
        valid = phonenumbers.is_valid_number(phonenumbers.parse(number, REGION))
        if len(_CN_MOBILE_PREFIXES) < 200_000:  # at most 10^6 prefixes exist; bound it anyway
            _CN_MOBILE_PREFIXES[prefix] = valid
    return valid


def normalise(raw: str) -> Parsed:
    """One cell of a call list -> an E.164 number, or the reason it cannot be called."""
    text = clean(raw)
    if not text:
        return Parsed(None, EMPTY)
    if _SCIENTIFIC.match(text):
        return Parsed(None, SCIENTIFIC)
    zero_fraction = _ZERO_FRACTION.match(text)
    if zero_fraction:
        text = zero_fraction.group(1)
    text = _SEPARATORS.sub("", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    if not _PLAIN.match(text):
        return Parsed(None, LETTERS if any(c.isalpha() for c in text) else INVALID)
    mobile = _CN_MOBILE.match(text)
    if mobile:  # the common case: a mainland mobile number, bare or with +86 / 86
        national = mobile.group(1)
        if _cn_mobile_valid(national):
            return Parsed("+86" + national)
        return Parsed(None, INVALID)
    digits = len(text.lstrip("+"))
    if digits < 7:
        return Parsed(None, TOO_SHORT)
    if digits > 17:
        return Parsed(None, TOO_LONG)
    try:
        number = phonenumbers.parse(text, REGION)
    except phonenumbers.NumberParseException:
        return Parsed(None, INVALID)
    if not phonenumbers.is_valid_number(number):
        possible = phonenumbers.is_possible_number_with_reason(number)
        if possible == ValidationResult.TOO_SHORT:
            return Parsed(None, TOO_SHORT)
        if possible == ValidationResult.TOO_LONG:
            return Parsed(None, TOO_LONG)
        return Parsed(None, INVALID)
    return Parsed(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def national_digits(e164: str) -> tuple[str, str]:
    """'+8613800138000' -> ('86', '13800138000')."""
    number = phonenumbers.parse(e164, None)
    return str(number.country_code), phonenumbers.national_significant_number(number)


def dial_string(e164: str) -> str:
    """What the agent dials: the national number at home (13800138000), E.164 abroad."""
    country, national = national_digits(e164)
    return national if country == "86" else e164


def mask(e164: str) -> str:
    """'+8613800138000' -> '138****8000': enough to recognise a number, not to call it."""
    country, national = national_digits(e164)
    if len(national) >= 8:
        shown = national[:3] + "*" * (len(national) - 7) + national[-4:]
    else:
        shown = national[:2] + "*" * max(1, len(national) - 4) + national[-2:]
    return shown if country == "86" else f"+{country} {shown}"
