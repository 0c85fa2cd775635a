"""Haringey, SAfE, Harrow and Camden."""
from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.calculator import CalcRequest, calculate, list_partnerships


def test_haringey_per_pupil_with_both_sources():
    result = calculate(CalcRequest(partnership="HEP", pupils=500))
    assert result.totals == {"subscription": Decimal(9500)}
    assert {c.source for c in result.citations} == {"aepa-learning-locally-london-partnerships.txt",
                                                   "hillingdon-partnership-review-slides-2021.txt"}
    assert "£19 × 500" in result.working[0].formula


def test_safe_89p():
    result = calculate(CalcRequest(partnership="surrey", pupils=600))
    assert result.totals["subscription"] == Decimal("534.00")
    assert result.to_dict()["display"]["subscription"] == "£534"


def test_per_pupil_from_form_entry_states_the_assumption():
    result = calculate(CalcRequest(partnership="haringey", fe=2))
    assert result.totals["subscription"] == 19 * 420
    assert any("assumes a primary" in w for w in result.warnings)
    assert any("1 FE 2 FE" in c.quote for c in result.citations)


@pytest.mark.parametrize("phase,fee", [("secondary", 4200), ("primary", 2100), ("special", 1050)])
def test_harrow_flat_fees(phase, fee):
    result = calculate(CalcRequest(partnership="harrow", phase=phase))
    assert result.totals == {"subscription": Decimal(fee)}
    assert "Collegiate offers a subscription model" in result.citations[0].quote


def test_camden_gives_the_range_and_no_formula():
    result = calculate(CalcRequest(partnership="camden", pupils=400, phase="primary"))
    assert result.totals == {"fee_min": Decimal(850), "fee_max": Decimal(13000)}
    assert "subscription" not in result.totals
    assert any("publishes no formula" in w for w in result.warnings)
    assert any("cannot be used" in w for w in result.warnings)
    assert "×" not in result.to_text().split("Sources:")[0]


def test_list_partnerships():
    listed = {p["key"]: p for p in list_partnerships()}
    assert set(listed) == {"ealing", "haringey", "safe", "harrow", "camden", "hillingdon"}
    assert "hep" in listed["haringey"]["aliases"] and listed["ealing"]["supports"]
