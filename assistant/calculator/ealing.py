"""Ealing Learning Partnership 2018-19: subscriptions by phase and scenario, and for primaries the new
funding, de-delegation and net position exactly as the prospectus table computes them."""
from __future__ import annotations

from decimal import Decimal

from assistant.calculator.common import Context, build_result
from assistant.calculator.models import CalcResult, WorkingLine
from assistant.calculator.money import count, exact, pounds
from assistant.errors import CalculationError

DE_DELEGATION_SCOPE = ("Academies are not de-delegated: the £100,000 de-delegation applies to maintained "
                       "primary schools only.")


def rates_hint(ctx: Context) -> str | None:
    """The published rates that apply so far, so a question for more input is still informative."""
    s = ctx.schedule
    if ctx.phase == "secondary":
        return f"Ealing secondary schools pay {s.rate('secondary_per_school_s1').as_written} per school and " \
               f"{s.rate('secondary_per_pupil_s1').as_written} per pupil in both scenarios (2018-19)."
    if ctx.phase == "primary":
        scenarios = [ctx.req.scenario] if ctx.req.scenario else [1, 2]
        return " ".join(f"Scenario {n}: {s.rate(f'primary_per_pupil_s{n}').quote}." for n in scenarios)
    return None


def calculate_ealing(ctx: Context) -> CalcResult:
    """Dispatch on phase (`calculate` has checked that every needed input is present)."""
    if ctx.phase == "special" and ctx.pupils is not None:
        raise CalculationError("Ealing special schools pay a flat amount per school (£4,500 in scenario 1, "
                               "£5,000 in scenario 2), so pupils are not used: leave out the pupil number.")
    if ctx.phase != "primary" and ctx.req.maintained is not None:
        ctx.warnings.append("Maintained or academy status only matters for primaries: the £100,000 "
                            "de-delegation applies to maintained primary schools only.")
    if ctx.req.scenario is None and ctx.phase in ("primary", "special"):
        ctx.warnings.append("No scenario was given, so both are shown: scenario 1 assumes 60 primaries "
                            "subscribe, scenario 2 assumes 50.")
    if ctx.phase == "primary":
        return _primary(ctx)
    if ctx.phase == "secondary":
        return _secondary(ctx)
    return _special(ctx)


def _primary_figures(ctx: Context, pupils: int, maintained: bool, scenario: int) -> dict[str, Decimal]:
    s, n = ctx.schedule, Decimal(pupils)
    mfg = s.amount("mfg_per_pupil") * n
    council = s.amount("council_share_per_pupil") * n
    new = mfg + council
    de_delegation = s.amount("de_delegation_per_pupil") * n if maintained else Decimal(0)
    subscription = s.amount(f"primary_per_school_s{scenario}") + s.amount(f"primary_per_pupil_s{scenario}") * n
    return {"subscription": subscription, "mfg_funding": mfg, "council_share": council,
            "total_new_funding": new, "de_delegation": de_delegation,
            "net_position": new - de_delegation - subscription}


def _primary(ctx: Context) -> CalcResult:
    """With a scenario: exactly the table's six figures. Without: the shared lines, then the subscription
    and net position of each scenario under keys suffixed _scenario_1 / _scenario_2."""
    s, n = ctx.schedule, ctx.pupils
    scenarios = [ctx.req.scenario] if ctx.req.scenario else [1, 2]
    maintained = ctx.req.maintained
    if maintained is None:
        maintained = True
        academy = [pounds(_primary_figures(ctx, n, False, sc)["net_position"]) for sc in scenarios]
        ctx.warnings.append(
            "Maintained or academy was not stated, so this assumes a maintained primary. "
            f"{DE_DELEGATION_SCOPE} As an academy the net position would be {' or '.join(academy)}.")
    elif not maintained:
        ctx.warnings.append(DE_DELEGATION_SCOPE)
    by_scenario = {sc: _primary_figures(ctx, n, maintained, sc) for sc in scenarios}
    t = by_scenario[scenarios[0]]
    r = {k: s.amount(k) for k in ("mfg_per_pupil", "council_share_per_pupil", "de_delegation_per_pupil")}
    ctx.lines += [
        WorkingLine(label="School effectiveness funding added to the MFG (£16 per pupil)",
                    formula=f"{exact(r['mfg_per_pupil'])} × {count(n)}", amount=t["mfg_funding"],
                    key="mfg_funding"),
        WorkingLine(label="Notional share of council funding (£571k ÷ 41,500 pupils = £13.759…; the prospectus "
                          "and its table use £13.76, which reproduces every table cell)",
                    formula=f"{exact(r['council_share_per_pupil'])} × {count(n)}", amount=t["council_share"],
                    key="council_share"),
        WorkingLine(label="Total new funding",
                    formula=f"{exact(t['mfg_funding'])} + {exact(t['council_share'])}",
                    amount=t["total_new_funding"], key="total_new_funding"),
        WorkingLine(label="De-delegation (maintained primaries, £100,000 = £3.49 per pupil)"
                    if maintained else "De-delegation (none: academies are not de-delegated)",
                    formula=f"{exact(r['de_delegation_per_pupil'])} × {count(n)}" if maintained else "£0",
                    amount=t["de_delegation"], key="de_delegation"),
    ]
    totals = {k: t[k] for k in ("mfg_funding", "council_share", "total_new_funding", "de_delegation")}
    suffix = (lambda sc: "") if len(scenarios) == 1 else (lambda sc: f"_scenario_{sc}")
    for sc in scenarios:
        per_school, per_pupil = s.amount(f"primary_per_school_s{sc}"), s.amount(f"primary_per_pupil_s{sc}")
        # The per-pupil part on its own line: "how much of it is the per-pupil bit?" is a governor's question.
        ctx.lines.append(WorkingLine(label=f"Per-pupil part of the scenario {sc} subscription",
                                     formula=f"{exact(per_pupil)} × {count(n)}", amount=per_pupil * n))
        ctx.lines.append(WorkingLine(
            label=f"Subscription, scenario {sc} ({exact(per_school)} per school + {exact(per_pupil)} per pupil)",
            formula=f"{exact(per_school)} + {exact(per_pupil)} × {count(n)}",
            amount=by_scenario[sc]["subscription"], key="subscription" + suffix(sc)))
        totals["subscription" + suffix(sc)] = by_scenario[sc]["subscription"]
    if maintained:
        for sc in scenarios:  # what leaves the school's budget, whatever comes in (the net position stays the last line)
            f = by_scenario[sc]
            ctx.lines.append(WorkingLine(
                label=f"Paid out{'' if len(scenarios) == 1 else f', scenario {sc}'} (de-delegation plus subscription)",
                formula=f"{exact(f['de_delegation'])} + {exact(f['subscription'])}",
                amount=f["de_delegation"] + f["subscription"]))
    if len(scenarios) == 2:
        one, two = by_scenario[1]["subscription"], by_scenario[2]["subscription"]
        ctx.lines.append(WorkingLine(label="Scenario 2 subscription more than scenario 1",
                                     formula=f"{exact(two)} − {exact(one)}", amount=two - one))
    for sc in scenarios:
        f = by_scenario[sc]
        ctx.lines.append(WorkingLine(
            label=f"Net position{'' if len(scenarios) == 1 else f', scenario {sc}'} (new funding less "
                  f"de-delegation and subscription)",
            formula=f"{exact(f['total_new_funding'])} − {exact(f['de_delegation'])} − {exact(f['subscription'])}",
            amount=f["net_position"], key="net_position" + suffix(sc)))
        totals["net_position" + suffix(sc)] = f["net_position"]
    ctx.cite("mfg_per_pupil", "council_share_per_pupil", "de_delegation_total", "de_delegation_per_pupil",
             *(f"primary_per_pupil_s{sc}" for sc in scenarios))
    status = "maintained primary" if maintained else "primary academy"
    school = f"A {count(n)}-pupil {status} in the Ealing Learning Partnership (2018-19)"
    if len(scenarios) == 1:
        headline = (f"{school}, scenario {scenarios[0]}: net position {pounds(t['net_position'])} — new funding "
                    f"{pounds(t['total_new_funding'])} less de-delegation {pounds(t['de_delegation'])} and "
                    f"subscription {pounds(t['subscription'])}.")
    else:
        one, two = by_scenario[1], by_scenario[2]
        headline = (f"{school}: new funding {pounds(t['total_new_funding'])} (£16 MFG line "
                    f"{pounds(t['mfg_funding'])} + council share {pounds(t['council_share'])}), de-delegation "
                    f"{pounds(t['de_delegation'])}; subscription {pounds(one['subscription'])} in scenario 1 or "
                    f"{pounds(two['subscription'])} in scenario 2, so a net position of "
                    f"{pounds(one['net_position'])} or {pounds(two['net_position'])}.")
    return build_result(ctx, headline, totals)


def _secondary(ctx: Context) -> CalcResult:
    s, n = ctx.schedule, ctx.pupils
    scenario = ctx.req.scenario or 1
    per_school, per_pupil = s.amount(f"secondary_per_school_s{scenario}"), s.amount(f"secondary_per_pupil_s{scenario}")
    subscription = per_school + per_pupil * Decimal(n)
    if ctx.req.scenario is None:
        ctx.warnings.append("No scenario was given; secondary rates are the same in both scenarios "
                            "(£6,500 per school + £3.40 per pupil).")
    ctx.warnings.append("The prospectus models new funding, de-delegation and net position for primary "
                        "schools only, so only the subscription is calculated.")
    ctx.lines.append(WorkingLine(label=f"Subscription ({exact(per_school)} per school + {exact(per_pupil)} "
                                       f"per pupil)",
                                 formula=f"{exact(per_school)} + {exact(per_pupil)} × {count(n)}",
                                 amount=subscription, key="subscription"))
    ctx.cite(f"secondary_per_pupil_s{scenario}")
    scenario_text = f"scenario {ctx.req.scenario}" if ctx.req.scenario else "either scenario"
    headline = (f"A {count(n)}-pupil secondary in the Ealing Learning Partnership (2018-19), {scenario_text}: "
                f"subscription {pounds(subscription)}.")
    return build_result(ctx, headline, {"subscription": subscription})


def _special(ctx: Context) -> CalcResult:
    scenarios = [ctx.req.scenario] if ctx.req.scenario else [1, 2]
    totals = {}
    for sc in scenarios:
        flat = ctx.schedule.amount(f"special_flat_s{sc}")
        key = "subscription" if len(scenarios) == 1 else f"subscription_scenario_{sc}"
        ctx.lines.append(WorkingLine(label=f"Subscription, scenario {sc} (flat amount per special school)",
                                     formula=exact(flat), amount=flat, key=key))
        ctx.cite(f"special_flat_s{sc}")
        totals[key] = flat
    shown = " or ".join(f"{pounds(ctx.schedule.amount(f'special_flat_s{sc}'))} in scenario {sc}" for sc in scenarios)
    headline = f"An Ealing special school (2018-19) pays a flat subscription of {shown}."
    return build_result(ctx, headline, totals)
