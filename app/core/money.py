"""Money is integer fen. Parse people's yuan strings exactly; never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from app.core.errors import Invalid

MAX_FEN = 10**13  # 100 billion yuan: anything above is a typo, not a budget


def parse_yuan(text: str | None, *, field: str | None = None, allow_zero: bool = True) -> int:
    """'12.34' -> 1234 fen. Rejects sub-fen precision, negatives, NaN and absurd sizes."""
    raw = (text or "").strip().replace(",", "").replace("，", "")
    if not raw:
        raise Invalid(_l("Enter an amount."), field=field)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise Invalid(_l("Enter an amount in yuan, like 35.50."), field=field) from None
    if not value.is_finite():
        raise Invalid(_l("Enter an amount in yuan, like 35.50."), field=field)
    if value < 0 or (value == 0 and not allow_zero):
        raise Invalid(_l("The amount must be more than zero."), field=field)
    fen = value * 100
    if fen != fen.to_integral_value():
        raise Invalid(_l("Amounts have at most two decimals (fen)."), field=field)
    if fen > MAX_FEN:
        raise Invalid(_l("That amount is too large."), field=field)
    return int(fen)


def format_fen(fen: int | None) -> str:
    """1234 -> '12.34' (no currency sign; templates add ¥)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"
