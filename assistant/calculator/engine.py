"""`calculate`: validate a request against its partnership's schedule, then run that schedule's engine."""
from __future__ import annotations

from decimal import Decimal

from assistant.calculator.common import (MAX_MEMBERS, MAX_PUPILS, PHASES, Context, ask_for, check_count,
                                         resolve_pupils)
from assistant.calculator.derivations import derive_ealing_rates, derive_per_pupil_rate
from assistant.calculator.ealing import calculate_ealing, rates_hint
from assistant.calculator.hillingdon import calculate_hillingdon
from assistant.calculator.models import CalcRequest, CalcResult
from assistant.calculator.schedule import Schedule, accepted_partnerships, load_schedules, resolve_partnership
from assistant.calculator.simple import (calculate_per_phase_flat, calculate_per_pupil, calculate_range,
                                        flat_fees_hint, per_pupil_hint)
from assistant.errors import CalculationError

ENGINES = {
    "ealing": calculate_ealing,
    "per_pupil": calculate_per_pupil,
    "per_phase_flat": calculate_per_phase_flat,
    "range": calculate_range,
    "cost_model": calculate_hillingdon,
}
# What to tell a user asked for more input: the published rates that apply so far.
HINTS = {
    "ealing": rates_hint,
    "per_pupil": per_pupil_hint,
    "per_phase_flat": flat_fees_hint,
    "range": lambda ctx: None,
    "cost_model": lambda ctx: None,
}
MAX_FE = MAX_PUPILS // 210
MAX_AREA_PUPILS = 200_000  # what-if derivations count pupils across all subscribing schools


def calculate(req: CalcRequest) -> CalcResult:
    """Compute a school's figures (or, with `derive`, how the Ealing rates arise), with working and sources.

    Raises CalculationError (MissingInputError when an input is missing) naming the problem and the
    accepted values.
    """
    if not req.partnership:
        raise ask_for(["partnership"])
    schedule = resolve_partnership(req.partnership)
    if schedule is None:
        raise CalculationError(f"Unknown partnership '{req.partnership}'. The calculator knows: "
                               f"{accepted_partnerships()}.")
    if req.derive or req.schools is not None or req.pool is not None:
        return _derive(req, schedule)
    _check_common(req, schedule)
    ctx = Context(req=req, schedule=schedule, phase=req.phase, pupils=req.pupils)
    resolve_pupils(ctx)
    missing = missing_inputs(req)
    if missing:
        raise ask_for(missing, HINTS[schedule.model](ctx))
    if req.maintained is not None and schedule.model != "ealing":
        ctx.warnings.append(f"Maintained or academy status does not change what {schedule.name} charges.")
    return ENGINES[schedule.model](ctx)


def missing_inputs(req: CalcRequest) -> list[str]:
    """The inputs `req` still needs, read off its partnership's schedule without calculating anything (the
    router asks for these before a calculation runs). Empty when complete or when the partnership is
    unknown (`calculate` explains that)."""
    if not req.partnership:
        return ["partnership"]
    schedule = resolve_partnership(req.partnership)
    if schedule is None or req.derive or req.schools is not None or req.pool is not None:
        return []
    counted = req.pupils is not None or req.fe is not None
    phase = req.phase or ("primary" if req.fe is not None else None)  # form entry is a primary's measure
    if schedule.model == "ealing":
        return (["phase"] if phase is None else []) + (["pupils"] if phase != "special" and not counted else [])
    if schedule.model == "per_pupil":
        return [] if counted else ["pupils"]
    if schedule.model == "per_phase_flat":
        return [] if phase else ["phase"]
    return []  # a published range, or Hillingdon's costs (members are optional there)


def question_for(req: CalcRequest, missing: list[str]) -> str:
    """What to ask for `missing` inputs of `req`, after the published rates that apply so far."""
    schedule = resolve_partnership(req.partnership) if req.partnership else None
    if schedule is None:
        return str(ask_for(missing))
    ctx = Context(req=req, schedule=schedule, phase=req.phase or ("primary" if req.fe is not None else None),
                  pupils=req.pupils)
    return str(ask_for(missing, HINTS[schedule.model](ctx)))


def _check_common(req: CalcRequest, schedule: Schedule) -> None:
    if req.phase is not None and req.phase not in PHASES:
        raise CalculationError(f"Unknown phase '{req.phase}'. Accepted phases: primary, secondary, special.")
    if req.scenario is not None:
        if schedule.model != "ealing":
            raise CalculationError(f"{schedule.name} has no scenarios: only the Ealing Learning Partnership "
                                   f"2018-19 prospectus models scenarios (1 and 2). Leave out the scenario.")
        if req.scenario not in (1, 2):
            raise CalculationError(f"Unknown scenario {req.scenario}. Ealing has scenario 1 (60 primaries "
                                   f"subscribe) and scenario 2 (50 primaries subscribe).")
    if req.pupils is not None and req.fe is not None:
        raise CalculationError("Give either pupils or form entry (fe), not both.")
    check_count(req.pupils, "pupils", MAX_PUPILS)
    check_count(req.fe, "forms of entry", MAX_FE)
    if req.members is not None and schedule.model != "cost_model":
        raise CalculationError(f"Member schools are only used for Hillingdon's break-even fee; "
                               f"{schedule.name} does not use them.")
    check_count(req.members, "member schools", MAX_MEMBERS)


def _derive(req: CalcRequest, schedule: Schedule) -> CalcResult:
    """Derivation mode (Ealing only): the published rates, or a what-if rate for other take-up."""
    if schedule.model != "ealing":
        raise CalculationError(f"Derivations are only available for the Ealing Learning Partnership; "
                               f"{schedule.name} publishes no figures to derive its rates from.")
    unused = [name for name in ("phase", "fe", "scenario", "maintained", "members") if getattr(req, name) is not None]
    if unused:
        raise CalculationError(f"A derivation does not use {', '.join(unused)}: give schools and pupils "
                               f"(and optionally pool) for a what-if rate, or nothing for the published rates.")
    if req.schools is None and req.pupils is None and req.pool is None:
        return derive_ealing_rates()
    if req.schools is None or req.pupils is None:
        missing = "the number of subscribing primary schools" if req.schools is None else "their total pupils"
        raise CalculationError(f"A what-if per-pupil rate needs {missing} (schools and pupils; pool is "
                               f"optional, default £331,000).")
    check_count(req.schools, "subscribing schools", MAX_MEMBERS)
    check_count(req.pupils, "pupils across the subscribing schools", MAX_AREA_PUPILS)
    pool = Decimal(req.pool) if req.pool is not None else schedule.amount("primary_pool")
    per_school = schedule.amount("primary_per_school_s1")
    return derive_per_pupil_rate(pool, req.schools, per_school, req.pupils)


def list_partnerships() -> list[dict]:
    """The partnerships the calculator knows: name, aliases and what each supports."""
    return [{"key": s.key, "name": s.name, "aliases": s.aliases, "model": s.model, "year": s.year,
             "supports": s.supports} for s in load_schedules().values()]
