"""The simple schedules: a rate per pupil (Haringey, SAfE), a flat fee per phase (Harrow) and a published
range with no formula (Camden)."""
from __future__ import annotations

from decimal import Decimal

from assistant.calculator.common import Context, build_result
from assistant.calculator.models import CalcResult, WorkingLine
from assistant.calculator.money import count, exact, pounds
from assistant.errors import CalculationError


def per_pupil_hint(ctx: Context) -> str:
    s = ctx.schedule
    return f"{s.name} charges {s.rate('per_pupil').as_written} per pupil."


def flat_fees_hint(ctx: Context) -> str:
    s = ctx.schedule
    fees = ", ".join(f"{p} {exact(s.amount(p))}" for p in ("secondary", "primary", "special"))
    return f"{s.name} charges a flat subscription per school: {fees}."


def calculate_per_pupil(ctx: Context) -> CalcResult:
    """Rate × pupils, the same for every phase."""
    s, n = ctx.schedule, ctx.pupils
    rate = s.amount("per_pupil")
    subscription = rate * Decimal(n)
    ctx.lines.append(WorkingLine(label=f"{s.rate('per_pupil').label} ({s.rate('per_pupil').as_written})",
                                 formula=f"{exact(rate)} × {count(n)}", amount=subscription,
                                 key="subscription"))
    ctx.cite(*s.rates)
    ctx.warnings.extend(s.notes)
    school = f"A {count(n)}-pupil {ctx.phase or 'school'}"
    headline = (f"{school} in {s.name} pays {pounds(subscription)} "
                f"({s.rate('per_pupil').as_written} per pupil × {count(n)}).")
    return build_result(ctx, headline, {"subscription": subscription})


def calculate_per_phase_flat(ctx: Context) -> CalcResult:
    """A flat subscription per school that depends only on the phase."""
    s = ctx.schedule
    if ctx.pupils is not None:
        fees = ", ".join(f"{p} {exact(s.amount(p))}" for p in ("secondary", "primary", "special"))
        raise CalculationError(f"{s.name} charges a flat subscription per school ({fees}), so pupils "
                               f"are not used: leave out the pupil number and give the phase.")
    fee = s.amount(ctx.phase)
    ctx.lines.append(WorkingLine(label=f"{s.rate(ctx.phase).label} (flat, per school)", formula=exact(fee),
                                 amount=fee, key="subscription"))
    ctx.cite(ctx.phase)
    ctx.warnings.extend(s.notes)
    headline = f"A {ctx.phase} school's subscription to {s.name} is {pounds(fee)} (a flat amount per school)."
    return build_result(ctx, headline, {"subscription": fee})


def calculate_range(ctx: Context) -> CalcResult:
    """Only the published range: no formula exists, so none is invented."""
    s = ctx.schedule
    low, high = s.amount("fee_min"), s.amount("fee_max")
    ctx.lines.append(WorkingLine(label="Lowest published fee", formula=s.rate("fee_min").as_written,
                                 amount=low, key="fee_min"))
    ctx.lines.append(WorkingLine(label="Highest published fee", formula=s.rate("fee_max").as_written,
                                 amount=high, key="fee_max"))
    ctx.cite("fee_min", "fee_max")
    ctx.warnings.append(f"{s.name} publishes no formula: the fee depends on the service level a school "
                        f"chooses, so only the published range can be given — nothing is calculated.")
    used = [f"{k} {v}" for k, v in (("pupils", ctx.pupils), ("phase", ctx.phase)) if v is not None]
    if used:
        ctx.warnings.append(f"The inputs given ({', '.join(used)}) cannot be used for that reason.")
    headline = (f"{s.name} publishes no formula: schools pay between {pounds(low)} and {pounds(high)} "
                f"('{s.rate('fee_min').as_written} to {s.rate('fee_max').as_written}'), depending on the "
                f"service level.")
    return build_result(ctx, headline, {"fee_min": low, "fee_max": high})
