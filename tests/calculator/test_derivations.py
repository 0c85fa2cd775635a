"""How the Ealing rates arise: £13.76, £3.36, and the £6.11 the document's own figures don't give."""
from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.calculator import (CalcRequest, calculate, derive_council_share, derive_per_pupil_rate,
                                  derive_scenario_rate)
from assistant.errors import CalculationError


def test_council_share():
    result = derive_council_share()
    rate = result.totals["council_share_rate"]
    assert rate == Decimal(571000) / Decimal(41500)
    assert rate.quantize(Decimal("0.01")) == Decimal("13.76")
    assert result.to_dict()["display"]["council_share_rate"] == "£13.76"
    assert "£571,000 ÷ 41,500" in result.working[0].formula
    assert "£13.759…" in result.headline
    assert any("£571k" in c.quote for c in result.citations)


def test_scenario_1_rate():
    result = derive_per_pupil_rate(331000, 60, 4000, 27100)
    assert result.totals["per_school_total"] == 240000
    assert result.totals["remaining_pool"] == 91000
    assert result.totals["per_pupil_rate"] == Decimal(91000) / Decimal(27100)
    assert result.totals["per_pupil_rate"].quantize(Decimal("0.01")) == Decimal("3.36")
    assert "(£331,000 − 60 × £4,000) ÷ 27,100" in result.headline
    assert derive_scenario_rate(1).warnings == []  # the document's rounding agrees


def test_scenario_2_rounding_differs_and_both_figures_are_reported():
    result = derive_scenario_rate(2)
    rate = result.totals["scenario_2_per_pupil_rate"]
    assert rate == Decimal(131000) / Decimal(21500)
    assert rate.quantize(Decimal("0.01")) == Decimal("6.09")
    assert result.totals["scenario_2_published_rate"] == Decimal("6.11")
    warning = " ".join(result.warnings)
    assert "£6.09" in warning and "£6.11" in warning and "own rounding differs" in warning


def test_derive_mode_through_calculate():
    result = calculate(CalcRequest(partnership="elp", derive=True))
    assert {"council_share_rate", "scenario_1_per_pupil_rate", "scenario_2_per_pupil_rate"} <= set(result.totals)
    what_if = calculate(CalcRequest(partnership="ealing", schools=55, pupils=24000))
    assert what_if.totals["per_pupil_rate"] == Decimal(331000 - 55 * 4000) / 24000
    custom_pool = calculate(CalcRequest(partnership="ealing", derive=True, schools=50, pupils=20000, pool=300000))
    assert custom_pool.totals["per_pupil_rate"] == Decimal(100000) / 20000


@pytest.mark.parametrize("kwargs,message", [
    (dict(partnership="haringey", derive=True), "only available for the Ealing"),
    (dict(partnership="ealing", derive=True, schools=100, pupils=30000), "already covers"),
    (dict(partnership="ealing", derive=True, schools=50), "needs their total pupils"),
    (dict(partnership="ealing", derive=True, phase="primary"), "does not use phase"),
])
def test_derivation_errors(kwargs, message):
    with pytest.raises(CalculationError, match=message):
        calculate(CalcRequest(**kwargs))
