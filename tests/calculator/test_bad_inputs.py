"""Bad input: a CalculationError naming the problem and the accepted values."""
from __future__ import annotations

import pytest

from assistant.calculator import CalcRequest, MissingInputError, calculate
from assistant.errors import CalculationError

BAD = [
    (dict(partnership="ealing", phase="primary", pupils=0, scenario=1), r"at least 1 \(accepted: 1 to 5,000\)"),
    (dict(partnership="ealing", phase="primary", pupils=-20, scenario=1), "at least 1"),
    (dict(partnership="haringey", pupils=6000), "not plausible here: the accepted range is 1 to 5,000"),
    (dict(partnership="lewisham", pupils=300), "Unknown partnership 'lewisham'.*Ealing Learning Partnership"),
    (dict(partnership="ealing", phase="nursery", pupils=300, scenario=1), "Unknown phase 'nursery'. Accepted phases: primary, secondary, special"),
    (dict(partnership="ealing", phase="primary", pupils=300, scenario=3), "Unknown scenario 3.*scenario 1.*scenario 2"),
    (dict(partnership="haringey", pupils=300, scenario=1), "has no scenarios"),
    (dict(partnership="harrow", phase="primary", pupils=300), "flat subscription per school"),
    (dict(partnership="ealing", phase="special", pupils=100, scenario=1), "flat amount per school"),
    (dict(partnership="hillingdon", pupils=100), "same fee"),
    (dict(partnership="ealing", phase="primary", pupils=420, fe=2, scenario=1), "either pupils or form entry"),
    (dict(partnership="ealing", phase="secondary", fe=5), "Form entry is only defined for primaries"),
    (dict(partnership="haringey", pupils=300, members=40), "only used for Hillingdon"),
    (dict(partnership="hillingdon", members=0), "at least 1"),
]


@pytest.mark.parametrize("kwargs,message", BAD)
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(CalculationError, match=message):
        calculate(CalcRequest(**kwargs))


@pytest.mark.parametrize("kwargs,missing,question", [
    (dict(partnership="ealing", phase="primary", scenario=2), ["pupils"], "How many pupils"),
    (dict(partnership="ealing", phase="secondary"), ["pupils"], "£6.5k per school and £3.40 per pupil.*How many pupils"),
    (dict(partnership="ealing", pupils=300), ["phase"], "Which phase"),
    (dict(partnership="ealing"), ["phase", "pupils"], "Which phase.*How many pupils"),
    (dict(partnership="harrow"), ["phase"], "primary £2,100.*Which phase"),
    (dict(partnership="safe"), ["pupils"], "89p per pupil. How many pupils"),
    (dict(partnership=""), ["partnership"], "Which partnership"),
])
def test_missing_inputs_are_asked_for(kwargs, missing, question):
    with pytest.raises(MissingInputError, match=question) as info:
        calculate(CalcRequest(**kwargs))
    assert info.value.missing == missing
