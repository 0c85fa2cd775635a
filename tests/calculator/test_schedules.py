"""Every rate of every schedule is backed by a quote that really occurs in the cited corpus file."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from assistant.calculator.schedule import load_schedules, resolve_partnership
from tests.calculator.conftest import CORPUS, corpus_text, normalise

SCHEDULES = load_schedules()
RATES = [(s.key, rate_id, rate) for s in SCHEDULES.values() for rate_id, rate in s.rates.items()]
SOURCES = [(s.key, ref_id, ref) for s in SCHEDULES.values() for ref_id, ref in s.sources.items()]


def parse_as_written(text: str) -> Decimal:
    """'£4k' → 4000, '£6.5k' → 6500, '89p' → 0.89, '£13K' → 13000, '5K' → 5000, '41,500' → 41500."""
    match = re.fullmatch(r"£?([\d,]+(?:\.\d+)?)([kKp]?)", text)
    assert match, f"unparseable amount {text!r}"
    value = Decimal(match.group(1).replace(",", ""))
    return {"k": value * 1000, "K": value * 1000, "p": value / 100}.get(match.group(2), value)


def test_all_six_partnerships_have_schedules():
    assert set(SCHEDULES) == {"ealing", "haringey", "safe", "harrow", "camden", "hillingdon"}


@pytest.mark.parametrize("key,rate_id,rate", RATES, ids=[f"{k}.{r}" for k, r, _ in RATES])
def test_rate_quote_occurs_in_its_source_and_states_the_amount(key, rate_id, rate):
    assert (CORPUS / rate.source).is_file()
    assert normalise(rate.quote) in normalise(corpus_text(rate.source))
    assert rate.as_written in rate.quote
    assert parse_as_written(rate.as_written) == rate.amount
    assert rate.year


@pytest.mark.parametrize("key,ref_id,ref", SOURCES, ids=[f"{k}.{r}" for k, r, _ in SOURCES])
def test_non_numeric_statements_occur_in_their_source(key, ref_id, ref):
    assert normalise(ref.quote) in normalise(corpus_text(ref.source))


def test_hillingdon_items_quote_the_slides_and_their_stated_figures():
    slides = normalise(corpus_text("hillingdon-partnership-review-slides-2021.txt"))
    for item in SCHEDULES["hillingdon"].items:
        assert normalise(item.quote) in slides
        stated = f"£{item.stated_total:,}"
        assert stated in item.quote or stated in (item.stated_total_quote or "")
        if item.stated_total_quote:
            assert normalise(item.stated_total_quote) in slides
        if item.stated_unit_cost is not None:
            assert re.search(rf"£{item.stated_unit_cost:,}|£{item.stated_unit_cost}", item.quote)
        for part in item.parts:
            assert part.rate in SCHEDULES["hillingdon"].rates


@pytest.mark.parametrize("alias,key", [
    ("Ealing", "ealing"), ("ELP", "ealing"), ("haringey", "haringey"), ("HEP", "haringey"),
    ("SAfE", "safe"), ("surrey", "safe"), ("Harrow", "harrow"), ("camden", "camden"),
    ("Hillingdon", "hillingdon"), ("hlp", "hillingdon"), ("  ealing learning partnership ", "ealing"),
])
def test_aliases_are_case_insensitive(alias, key):
    assert resolve_partnership(alias).key == key


def test_unknown_alias():
    assert resolve_partnership("lewisham") is None
