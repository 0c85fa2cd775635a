"""Formatting money: the engine keeps exact Decimals; only these helpers round, and only for display."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ONE_POUND = Decimal(1)
ONE_PENNY = Decimal("0.01")


def round_pounds(amount: Decimal) -> Decimal:
    """Nearest pound, halves away from zero (ROUND_HALF_UP), as the published tables round."""
    return amount.quantize(ONE_POUND, rounding=ROUND_HALF_UP)


def pounds(amount: Decimal) -> str:
    """'£4,467' — rounded to the pound, for headlines and the display column."""
    rounded = round_pounds(amount)
    sign = "-" if rounded < 0 else ""
    return f"{sign}£{abs(rounded):,.0f}"


def exact(amount: Decimal) -> str:
    """'£5,779.20' or '£4,000' — the unrounded amount (to the penny, or further when needed)."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount == amount.to_integral_value():
        return f"{sign}£{amount:,.0f}"
    if amount == amount.quantize(ONE_PENNY):
        return f"{sign}£{amount:,.2f}"
    return f"{sign}£{amount.normalize():,f}"


def approx(amount: Decimal, places: int = 3) -> str:
    """'£13.759…' — a long quotient shown to `places` decimals with an ellipsis when it was cut."""
    shown = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    suffix = "…" if shown != amount else ""
    return f"£{shown:,}{suffix}"


def count(n: int | Decimal) -> str:
    """'41,500' — a whole number with thousands separators."""
    return f"{Decimal(n):,.0f}"


def pence(amount: Decimal) -> str:
    """'£3.36' — rounded to the penny (ROUND_HALF_UP), for per-pupil rates."""
    rounded = amount.quantize(ONE_PENNY, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    return f"{sign}£{abs(rounded):,.2f}"


def display(key: str, amount: Decimal) -> str:
    """Display string for a total: rates (keys ending in '_rate') to the penny, money to the pound."""
    return pence(amount) if key.endswith("_rate") else pounds(amount)
