"""The figures guard: a sum of money in a model's answer must be one the calculator computed this turn or
one a cited passage states. Small models copy a table's figure for the wrong row, or do the arithmetic
themselves; either way the figure is not ours to show."""
from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# "£6,566", "£6,566.20", "£571k", "£3 million", "89p", "6,566 pounds"
MONEY = re.compile(
    r"£\s?(?P<pounds>\d(?:[\d,]*\d)?(?:\.\d+)?)(?:\s?(?P<scale>k|m|bn|million|billion|thousand)\b)?"
    r"|\b(?P<pence>\d+(?:\.\d+)?)\s?p\b"
    r"|\b(?P<worded>\d(?:[\d,]*\d)?(?:\.\d+)?)\s?(?:pounds|GBP)\b",
    re.I,
)
# Any number a source states (with or without a £): "4000", "6566.2", "£4k", "3.36"
NUMBER = re.compile(r"(?P<value>\d[\d,]*(?:\.\d+)?)(?:\s?(?P<scale>k|m|bn|million|billion|thousand)\b)?", re.I)
SCALES = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000, "bn": 10**9, "billion": 10**9}


def _decimal(digits: str, scale: str | None = None) -> Decimal | None:
    try:
        value = Decimal(digits.replace(",", ""))
    except InvalidOperation:
        return None
    return value * SCALES[scale.lower()] if scale else value


def money_in(text: str) -> list[tuple[str, Decimal]]:
    """The sums of money `text` states, as written and in pounds."""
    found = []
    for m in MONEY.finditer(text):
        if m["pounds"]:
            value = _decimal(m["pounds"], m["scale"])
        elif m["pence"]:
            value = _decimal(m["pence"]) / 100
        else:
            value = _decimal(m["worded"])
        if value is not None:
            found.append((m.group(0).strip(), value))
    return found


def _supported(texts: Iterable[str]) -> set[Decimal]:
    values: set[Decimal] = set()
    for text in texts:
        for m in NUMBER.finditer(text):
            value = _decimal(m["value"], m["scale"])
            if value is None:
                continue
            # as stated, in pence as pounds ("89p"), and rounded for display (nearest pound, half up)
            values |= {value, value / 100, value.quantize(Decimal(1), ROUND_HALF_UP), (value / 100).quantize(Decimal("0.01"))}
    return values


def unsupported_figures(answer: str, sources: Iterable[str]) -> list[str]:
    """The sums of money in `answer` that no text of `sources` states (nor rounds to)."""
    supported = _supported(sources)
    unsupported = []
    for written, value in money_in(answer):
        if value not in supported and value.quantize(Decimal("0.01")) not in supported:
            unsupported.append(written)
    return list(dict.fromkeys(unsupported))
