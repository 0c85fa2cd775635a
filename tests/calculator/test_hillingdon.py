"""Hillingdon's potential costs: every line from its assumptions, computed totals, the flagged
inconsistency (1 day LLE + 3 days SLE is £1,550, not £1,050), and the break-even fee."""
from __future__ import annotations

from decimal import Decimal

from assistant.calculator import CalcRequest, calculate
from assistant.calculator.hillingdon import check_items
from assistant.calculator.schedule import load_schedules


def test_every_line_item_from_its_assumptions():
    checked = {c.item.id: c for c in check_items(load_schedules()["hillingdon"])}
    assert checked["chair_coordination"].total == 20 * 600 + 50 * 350 == 29500
    assert checked["task_and_finish"].unit_cost == 10 * 500 + 15 * 350 == 10250
    assert checked["task_and_finish"].total == 20500
    assert checked["leading_schools"].total == 4 * 5000
    assert checked["peer_review"].total == 12 * 1600 + 30 * 1000 == 49200
    assert checked["sle_networks"].unit_cost == 3500 and checked["sle_networks"].total == 35000
    lle = checked["lle_sle_support"]
    assert lle.unit_cost == 500 + 3 * 350 == 1550
    assert lle.total == 42 * 1550 == 65100
    assert not lle.consistent
    assert [c.item.id for c in checked.values() if not c.consistent] == ["lle_sle_support"]


def test_totals_are_computed_both_ways():
    result = calculate(CalcRequest(partnership="hillingdon"))
    t = result.totals
    assert t["core_total"] == t["core_total_stated"] == 70000
    assert t["additional_total"] == 149300 and t["additional_total_stated"] == 128300
    assert t["total"] == 219300 and t["total_stated"] == 198300
    assert "fee" not in t
    assert any("slides give no totals" in w for w in result.warnings)
    assert any("number of member schools" in w for w in result.warnings)


def test_inconsistency_is_flagged_with_both_figures():
    result = calculate(CalcRequest(partnership="hlp"))
    flagged = [w for w in result.warnings if w.startswith("Inconsistent figure")]
    assert len(flagged) == 1
    for figure in ("£1,050", "£1,550", "£44,100", "£65,100", "42 × £1,050"):
        assert figure in flagged[0]
    line = next(w for w in result.working if "LLE/SLE support" in w.label)
    assert "the slide states £44,100" in line.label and line.amount == 65100
    assert any("number of groups" in w for w in result.warnings)


def test_break_even_fee():
    result = calculate(CalcRequest(partnership="hillingdon", members=80))
    assert result.totals["fee"] == Decimal(219300) / 80
    assert result.totals["fee_stated"] == Decimal(198300) / 80
    assert result.totals["fee_core_only"] == Decimal(70000) / 80
    assert result.to_dict()["display"]["fee"] == "£2,741"
    assert result.headline.startswith("Break-even flat fee with 80 member schools: £2,741")
    assert any(c.source == "hillingdon-hlp-invitation-to-join.txt" and "same fee" in c.quote
               for c in result.citations)
