"""The calculator reproduces every cell of the published ELP primary table, to the pound."""
from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.calculator import CalcRequest, calculate
from assistant.calculator.money import pounds
from tests.calculator.conftest import published_primary_table

CELLS = published_primary_table()


def test_the_whole_table_was_parsed():
    # 4 rolls × (£16 line, council share, total new funding, de-delegation, 2 subscriptions, 2 net positions)
    assert len(CELLS) == 32
    assert sorted({roll for roll, *_ in CELLS}) == [210, 420, 630, 840]


@pytest.mark.parametrize("roll,key,scenario,printed", CELLS, ids=[f"{r}-{k}-s{s}" for r, k, s, _ in CELLS])
def test_every_published_cell(roll, key, scenario, printed):
    for sc in ([scenario] if scenario else [1, 2]):
        result = calculate(CalcRequest(partnership="ealing", phase="primary", pupils=roll, scenario=sc,
                                       maintained=True))
        assert pounds(result.totals[key]) == printed
        assert result.to_dict()["display"][key] == printed


@pytest.mark.parametrize("roll,key,scenario,printed", CELLS, ids=[f"{r}-{k}-s{s}" for r, k, s, _ in CELLS])
def test_without_a_scenario_both_are_shown_and_match_the_table(roll, key, scenario, printed):
    result = calculate(CalcRequest(partnership="ealing", phase="primary", pupils=roll))
    shown_key = f"{key}_scenario_{scenario}" if scenario else key
    assert pounds(result.totals[shown_key]) == printed
    assert "subscription" not in result.totals and "net_position" not in result.totals
    assert any("both are shown" in w for w in result.warnings)
    assert printed in result.to_text()


@pytest.mark.parametrize("fe", [1, 2, 3, 4])
def test_form_entry_gives_the_table_rolls(fe):
    by_fe = calculate(CalcRequest(partnership="elp", phase="primary", fe=fe, scenario=2, maintained=True))
    by_pupils = calculate(CalcRequest(partnership="elp", phase="primary", pupils=210 * fe, scenario=2,
                                      maintained=True))
    assert by_fe.totals == by_pupils.totals
    assert "210 pupils per form of entry" in by_fe.working[0].label


def test_unrounded_values_are_kept():
    result = calculate(CalcRequest(partnership="ealing", phase="primary", pupils=420, scenario=2, maintained=True))
    assert str(result.totals["net_position"]) == "4467.20"
    assert result.to_dict()["net_position"] == 4467.2
    assert result.to_dict()["display"]["net_position"] == "£4,467"


def test_council_share_uses_the_published_rate_because_only_it_reproduces_the_table():
    result = calculate(CalcRequest(partnership="ealing", phase="primary", pupils=210, scenario=1, maintained=True))
    assert pounds(result.totals["council_share"]) == "£2,890"
    from decimal import Decimal
    assert pounds(Decimal(571000) / Decimal(41500) * 210) == "£2,889"  # the unrounded rate would not
    assert "£13.76" in result.working[1].label and "reproduces every table cell" in result.working[1].label


def test_academy_is_not_de_delegated():
    maintained = calculate(CalcRequest(partnership="ealing", phase="primary", pupils=420, scenario=2,
                                       maintained=True))
    academy = calculate(CalcRequest(partnership="ealing", phase="primary", pupils=420, scenario=2,
                                    maintained=False))
    assert academy.totals["de_delegation"] == 0
    assert academy.totals["net_position"] == maintained.totals["net_position"] + maintained.totals["de_delegation"]
    assert any("Academies are not de-delegated" in w for w in academy.warnings)


def test_unstated_status_assumes_maintained_and_says_so():
    result = calculate(CalcRequest(partnership="ealing", phase="primary", pupils=420, scenario=2))
    assert pounds(result.totals["de_delegation"]) == "£1,466"
    warning = " ".join(result.warnings)
    assert "assumes a maintained primary" in warning and "Academies are not de-delegated" in warning
    assert "£5,933" in warning  # the academy alternative: £4,467.20 + £1,465.80


def test_ealing_primary_json_has_exactly_the_required_totals():
    result = calculate(CalcRequest(partnership="ealing", phase="primary", pupils=315, scenario=1))
    assert set(result.totals) == {"subscription", "mfg_funding", "council_share", "total_new_funding",
                                  "de_delegation", "net_position"}


def test_secondary_and_special():
    secondary = calculate(CalcRequest(partnership="ealing", phase="secondary", pupils=900))
    assert set(secondary.totals) == {"subscription"} and str(secondary.totals["subscription"]) == "9560.00"
    assert pounds(secondary.totals["subscription"]) == "£9,560"
    assert any("same in both scenarios" in w for w in secondary.warnings)
    for scenario, printed in ((1, "£4,500"), (2, "£5,000")):
        special = calculate(CalcRequest(partnership="ealing", phase="special", scenario=scenario))
        assert pounds(special.totals["subscription"]) == printed
        assert any("Special £" in c.quote for c in special.citations)
    both = calculate(CalcRequest(partnership="ealing", phase="special"))
    assert both.totals == {"subscription_scenario_1": 4500, "subscription_scenario_2": 5000}


def test_text_puts_the_figure_first_then_working_then_sources():
    text = calculate(CalcRequest(partnership="ealing", phase="primary", pupils=420, scenario=2,
                                 maintained=True)).to_text()
    head, rest = text.split("\n", 1)
    assert "£4,467" in head
    assert rest.index("Working:") < rest.index("Sources:")
    assert "£4,000 + £6.11 × 420 = £6,566.20 (£6,566)" in rest
    assert "ealing-elp-prospectus-2018-19.txt" in rest.split("Sources:")[1]


def test_the_working_shows_the_parts_a_governor_asks_about():
    """The per-pupil part of each subscription, what a maintained school pays out, and the difference
    between the scenarios are lines of their own (derived by the calculator, never by a model)."""
    both = calculate(CalcRequest(partnership="ealing", phase="primary", pupils=400, maintained=True))
    lines = {line.label: line.amount for line in both.working}
    assert lines["Per-pupil part of the scenario 1 subscription"] == 1344  # £3.36 × 400
    assert lines["Per-pupil part of the scenario 2 subscription"] == Decimal("2444.00")  # £6.11 × 400
    assert lines["Paid out, scenario 1 (de-delegation plus subscription)"] == 1396 + 5344
    assert lines["Scenario 2 subscription more than scenario 1"] == 1100
    assert "£1,100" in both.to_text()
    assert both.working[-1].key == "net_position_scenario_2"  # the answer stays the last line
    academy = calculate(CalcRequest(partnership="ealing", phase="primary", pupils=400, scenario=1, maintained=False))
    assert not any(line.label.startswith("Paid out") for line in academy.working)  # nothing de-delegated
    assert not any("more than scenario 1" in line.label for line in academy.working)  # one scenario
