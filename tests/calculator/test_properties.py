"""Property tests: subscriptions grow with pupils, and the net position is exactly its parts."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.calculator import CalcRequest, calculate
from assistant.calculator.money import pounds, round_pounds

pupils = st.integers(min_value=1, max_value=5000)
per_pupil_cases = st.sampled_from([
    dict(partnership="ealing", phase="primary", scenario=1), dict(partnership="ealing", phase="primary", scenario=2),
    dict(partnership="ealing", phase="secondary", scenario=1), dict(partnership="ealing", phase="secondary"),
    dict(partnership="haringey"), dict(partnership="safe"),
])


@settings(max_examples=150, deadline=None)
@given(case=per_pupil_cases, a=pupils, b=pupils)
def test_subscription_is_monotone_in_pupils(case, a, b):
    small, large = sorted((a, b))
    s_small = calculate(CalcRequest(pupils=small, **case)).totals["subscription"]
    s_large = calculate(CalcRequest(pupils=large, **case)).totals["subscription"]
    assert s_small <= s_large
    assert (s_small < s_large) == (small < large)


@settings(max_examples=150, deadline=None)
@given(n=pupils, scenario=st.sampled_from([1, 2]), maintained=st.sampled_from([True, False, None]))
def test_net_position_is_new_funding_less_de_delegation_and_subscription(n, scenario, maintained):
    t = calculate(CalcRequest(partnership="ealing", phase="primary", pupils=n, scenario=scenario,
                              maintained=maintained)).totals
    assert t["total_new_funding"] == t["mfg_funding"] + t["council_share"]
    assert t["net_position"] == t["total_new_funding"] - t["de_delegation"] - t["subscription"]
    assert (t["de_delegation"] == 0) == (maintained is False)


@settings(max_examples=100, deadline=None)
@given(n=pupils, scenario=st.sampled_from([1, 2]))
def test_display_is_the_half_up_rounding_of_the_exact_value(n, scenario):
    result = calculate(CalcRequest(partnership="ealing", phase="primary", pupils=n, scenario=scenario))
    for key, value in result.totals.items():
        assert result.to_dict()["display"][key] == pounds(value)
        assert abs(round_pounds(value) - value) <= 0.5


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200) | st.lists(st.sampled_from([
    "ealing", "Haringey", "SAfE", "harrow", "camden", "hillingdon", "primary", "secondary", "special", "scenario",
    "3", "0", "-4", "1.5", "99999999999999999999", "pupils", "FE", "form entry", "academy", "maintained", "£",
    "members", "schools", "how much", "would", "pay", "fee", "worked out", "£13.76", "per-pupil rate", "pool of",
    "three hundred and fifteen", "and", "?", ","]), max_size=14).map(" ".join))
def test_router_never_raises(text):
    from assistant.calculator import answer_for, route_calculation

    decision = route_calculation(text, None)
    if decision is not None:
        assert sum(x is not None for x in (decision.request, decision.question_for_user, decision.error)) == 1
        assert answer_for(decision).answer
