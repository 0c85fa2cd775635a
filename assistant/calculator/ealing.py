"""Ealing Learning Partnership 2018-19: subscriptions by phase and scenario, and for primaries the new
funding, de-delegation and net position exactly as the prospectus table computes them."""
from __future__ import annotations

from decimal import Decimal

from assistant.calculator.common import Context, ask_for, build_result
from assistant.calculator.models import CalcResult, WorkingLine
from assistant.calculator.money import count, exact, pounds
from assistant.errors import CalculationError

DE_DELEGATION_SCOPE = ("Academies are not de-delegated: the £100,000 de-delegation applies to maintained "
                       "primary schools only.")


def _missing(ctx: Context) -> list[str]:
    missing = []
    if ctx.phase is None:
        missing.append("phase")
    if ctx.phase in (None, "primary", "secondary") and ctx.pupils is None:
        missing.append("pupils")
    if ctx.phase in ("primary", "special") and ctx.req.scenario is None:
        missing.append("scenario")
    return missing


def calculate_ealing(ctx: Context) -> CalcResult:
    """Dispatch on phase after checking every needed input is present."""
    if ctx.phase == "special" and ctx.pupils is not None:
        raise CalculationError("Ealing special schools pay a flat amount per school (£4,500 in scenario 1, "
                               "£5,000 in scenario 2), so pupils are not used: leave out the pupil number.")
    missing = _missing(ctx)
    if missing:
        raise ask_for(missing)
    if ctx.phase != "primary" and ctx.req.maintained is not None:
        ctx.warnings.append("Maintained or academy status only matters for primaries: the £100,000 "
                            "de-delegation applies to maintained primary schools only.")
    if ctx.phase == "primary":
        return _primary(ctx)
    if ctx.phase == "secondary":
        return _secondary(ctx)
    return _special(ctx)


def _primary_figures(ctx: Context, pupils: int, maintained: bool) -> dict[str, Decimal]:
    s, n = ctx.schedule, Decimal(pupils)
    scenario = ctx.req.scenario
    mfg = s.amount("mfg_per_pupil") * n
    council = s.amount("council_share_per_pupil") * n
    new = mfg + council
    de_delegation = s.amount("de_delegation_per_pupil") * n if maintained else Decimal(0)
    subscription = s.amount(f"primary_per_school_s{scenario}") + s.amount(f"primary_per_pupil_s{scenario}") * n
    return {"subscription": subscription, "mfg_funding": mfg, "council_share": council,
            "total_new_funding": new, "de_delegation": de_delegation,
            "net_position": new - de_delegation - subscription}


def _primary(ctx: Context) -> CalcResult:
    s, n, scenario = ctx.schedule, ctx.pupils, ctx.req.scenario
    maintained = ctx.req.maintained
    if maintained is None:
        maintained = True
        academy = _primary_figures(ctx, n, maintained=False)
        ctx.warnings.append(
            "Maintained or academy was not stated, so this assumes a maintained primary. "
            f"{DE_DELEGATION_SCOPE} As an academy the net position would be {pounds(academy['net_position'])}.")
    elif not maintained:
        ctx.warnings.append(DE_DELEGATION_SCOPE)
    t = _primary_figures(ctx, n, maintained)
    r = {k: s.amount(k) for k in ("mfg_per_pupil", "council_share_per_pupil", "de_delegation_per_pupil")}
    per_school = s.amount(f"primary_per_school_s{scenario}")
    per_pupil = s.amount(f"primary_per_pupil_s{scenario}")
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
        WorkingLine(label=f"Subscription, scenario {scenario} ({exact(per_school)} per school + "
                          f"{exact(per_pupil)} per pupil)",
                    formula=f"{exact(per_school)} + {exact(per_pupil)} × {count(n)}", amount=t["subscription"],
                    key="subscription"),
        WorkingLine(label="Net position (new funding less de-delegation and subscription)",
                    formula=f"{exact(t['total_new_funding'])} − {exact(t['de_delegation'])} − "
                            f"{exact(t['subscription'])}",
                    amount=t["net_position"], key="net_position"),
    ]
    ctx.cite("mfg_per_pupil", "council_share_per_pupil", "de_delegation_total", "de_delegation_per_pupil",
             f"primary_per_pupil_s{scenario}")
    status = "maintained primary" if maintained else "primary academy"
    headline = (f"A {count(n)}-pupil {status} in the Ealing Learning Partnership (2018-19), scenario "
                f"{scenario}: net position {pounds(t['net_position'])} — new funding "
                f"{pounds(t['total_new_funding'])} less de-delegation {pounds(t['de_delegation'])} and "
                f"subscription {pounds(t['subscription'])}.")
    return build_result(ctx, headline, t)


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
    scenario = ctx.req.scenario
    flat = ctx.schedule.amount(f"special_flat_s{scenario}")
    ctx.lines.append(WorkingLine(label=f"Subscription, scenario {scenario} (flat amount per special school)",
                                 formula=exact(flat), amount=flat, key="subscription"))
    ctx.cite(f"special_flat_s{scenario}")
    headline = (f"An Ealing special school (2018-19), scenario {scenario}: subscription {pounds(flat)} "
                f"(a flat amount per school).")
    return build_result(ctx, headline, {"subscription": flat})
