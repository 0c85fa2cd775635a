"""Hillingdon's proposed offer: every line of the review slides' "potential costs" table recomputed from
its stated assumptions, the totals the slides do not give, and a break-even flat fee per member school."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from assistant.calculator.common import Context, build_result
from assistant.calculator.models import CalcResult, SourceQuote, WorkingLine
from assistant.calculator.money import count, exact, pounds
from assistant.calculator.schedule import CostItem, Schedule
from assistant.errors import CalculationError


@dataclass(frozen=True)
class CheckedItem:
    """A cost line: what its assumptions give, and what the slide states."""

    item: CostItem
    unit_cost: Decimal
    total: Decimal

    @property
    def consistent(self) -> bool:
        unit_ok = self.item.stated_unit_cost in (None, self.unit_cost)
        return unit_ok and self.total == self.item.stated_total


def check_items(schedule: Schedule) -> list[CheckedItem]:
    """Recompute every line item from its parts (quantity × day rate) and units."""
    checked = []
    for item in schedule.items:
        unit_cost = sum((Decimal(p.quantity) * schedule.amount(p.rate) for p in item.parts), Decimal(0))
        checked.append(CheckedItem(item, unit_cost, unit_cost * item.units))
    return checked


def _formula(schedule: Schedule, checked: CheckedItem) -> str:
    item = checked.item
    single = len(item.parts) == 1 and item.parts[0].quantity == 1  # "4 leading schools × £5,000"
    parts = " + ".join(exact(schedule.amount(p.rate)) if single
                       else f"{p.quantity} {p.label} × {exact(schedule.amount(p.rate))}" for p in item.parts)
    if item.units == 1:
        return parts
    inner = f"({parts})" if len(item.parts) > 1 else parts
    return f"{item.units} {item.unit}s × {inner}"


def _inconsistency(schedule: Schedule, c: CheckedItem) -> str:
    item = c.item
    parts = " + ".join(f"{p.quantity} × {exact(schedule.amount(p.rate))} ({p.label})" for p in item.parts)
    text = f"Inconsistent figure in the slides' '{item.label}' line: "
    if item.stated_unit_cost is not None and item.stated_unit_cost != c.unit_cost:
        text += (f"the slide states {exact(item.stated_unit_cost)} per {item.unit}, but its own assumptions "
                 f"give {parts} = {exact(c.unit_cost)} per {item.unit}; ")
        if item.stated_unit_cost * item.units == item.stated_total:
            text += (f"the stated {exact(item.stated_total)} is {item.units} × {exact(item.stated_unit_cost)}, "
                     f"while {item.units} × {exact(c.unit_cost)} = {exact(c.total)}. ")
    else:
        text += (f"the slide states {exact(item.stated_total)}, but its assumptions give "
                 f"{_formula(schedule, c)} = {exact(c.total)}. ")
    if item.rates_note:
        text += item.rates_note + " "
    return text + "Both figures are reported; totals are shown both ways."


def calculate_hillingdon(ctx: Context) -> CalcResult:
    """Line items, computed totals (and the slides' own figures added up), and the break-even fee."""
    s, req = ctx.schedule, ctx.req
    if ctx.pupils is not None:
        raise CalculationError("Hillingdon's letter says every member school pays the same fee, so pupils are "
                               "not used: leave out the pupil number and give the number of member schools.")
    if ctx.phase is not None:
        ctx.warnings.append("Every Hillingdon member school pays the same fee, so the phase is not used.")
    checked = check_items(s)
    totals: dict[str, Decimal] = {}
    for section in ("core", "additional"):
        items = [c for c in checked if c.item.section == section]
        totals[f"{section}_total"] = sum((c.total for c in items), Decimal(0))
        totals[f"{section}_total_stated"] = sum((c.item.stated_total for c in items), Decimal(0))
    totals["total"] = totals["core_total"] + totals["additional_total"]
    totals["total_stated"] = totals["core_total_stated"] + totals["additional_total_stated"]

    for c in checked:
        stated = "" if c.consistent else f" — the slide states {exact(c.item.stated_total)}"
        ctx.lines.append(WorkingLine(label=f"{c.item.section.capitalize()}: {c.item.label}{stated}",
                                     formula=_formula(s, c), amount=c.total))
        if c.item.units_note and c.item.units > 1 and "not state" in c.item.units_note:
            ctx.warnings.append(f"'{c.item.label}': {c.item.units_note}")
        if not c.consistent:
            ctx.warnings.append(_inconsistency(s, c))
    for key, label in (("core_total", "Core total"), ("additional_total", "Additional total"),
                       ("total", "Grand total")):
        differs = totals[key] != totals[f"{key}_stated"]
        note = f" (adding the slides' own line figures: {exact(totals[f'{key}_stated'])})" if differs else ""
        ctx.lines.append(WorkingLine(label=f"{label}, computed{note}",
                                     formula=_sum_formula(key, totals, checked), amount=totals[key], key=key))
    ctx.warnings.insert(0, "The slides give no totals: the core, additional and grand totals are computed "
                           "here from the line items. These are the review's potential costs for a proposed "
                           "offer, not an agreed fee.")
    ctx.cite(*s.rates)
    slides = s.rate("chair_day").source
    for c in checked:
        for quote in filter(None, (c.item.quote, c.item.stated_total_quote)):
            ctx.extra_citations.append(SourceQuote(source=slides, quote=quote, year=s.year))
    headline = (f"Hillingdon's proposed partnership offer (2021 review slides): grand total "
                f"{pounds(totals['total'])} computed from the stated assumptions ({pounds(totals['total_stated'])} "
                f"if the slides' own line figures are added) — core {pounds(totals['core_total'])}, additional "
                f"{pounds(totals['additional_total'])}.")
    if req.members is None:
        ctx.warnings.append("Give the number of member schools for a break-even flat fee per school.")
    else:
        headline = _break_even(ctx, totals, req.members) + " " + headline
    return build_result(ctx, headline, totals)


def _sum_formula(key: str, totals: dict[str, Decimal], checked: list[CheckedItem]) -> str:
    if key == "total":
        return f"{exact(totals['core_total'])} + {exact(totals['additional_total'])}"
    section = key.removesuffix("_total")
    return " + ".join(exact(c.total) for c in checked if c.item.section == section)


def _break_even(ctx: Context, totals: dict[str, Decimal], members: int) -> str:
    """Every school pays the same fee (the letter), so break-even = total ÷ members."""
    m = Decimal(members)
    totals["fee"] = totals["total"] / m
    totals["fee_stated"] = totals["total_stated"] / m
    totals["fee_core_only"] = totals["core_total"] / m
    ctx.lines += [
        WorkingLine(label=f"Break-even flat fee, core and additional offer, {count(members)} members",
                    formula=f"{exact(totals['total'])} ÷ {count(members)}", amount=totals["fee"], key="fee"),
        WorkingLine(label="Same, using the slides' own line figures",
                    formula=f"{exact(totals['total_stated'])} ÷ {count(members)}", amount=totals["fee_stated"],
                    key="fee_stated"),
        WorkingLine(label="Break-even flat fee for the core offer only",
                    formula=f"{exact(totals['core_total'])} ÷ {count(members)}", amount=totals["fee_core_only"],
                    key="fee_core_only"),
    ]
    ctx.cite("same_fee")
    ctx.warnings.append("The invitation letter says every school pays the same fee, so the break-even fee "
                        "divides the total equally between member schools; it does not publish the fee itself.")
    return (f"Break-even flat fee with {count(members)} member schools: {pounds(totals['fee'])} per school "
            f"({pounds(totals['fee_stated'])} using the slides' own figures; core offer only: "
            f"{pounds(totals['fee_core_only'])}).")
