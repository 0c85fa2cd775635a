"""How the Ealing rates arise from the prospectus' own figures, and what-if rates for other take-up."""
from __future__ import annotations

from decimal import Decimal

from assistant.calculator.models import CalcResult, SourceQuote, WorkingLine
from assistant.calculator.money import approx, count, exact, pence
from assistant.calculator.schedule import Schedule, load_schedules
from assistant.errors import CalculationError

PENNY = Decimal("0.01")


def _ealing() -> Schedule:
    return load_schedules()["ealing"]


def _cite(schedule: Schedule, *rate_ids: str) -> list[SourceQuote]:
    seen: dict[str, SourceQuote] = {}
    for r in map(schedule.rate, rate_ids):
        seen.setdefault(r.quote, SourceQuote(source=r.source, quote=r.quote, year=r.year))
    return list(seen.values())


def _result(headline: str, lines, totals, warnings, citations, inputs=None) -> CalcResult:
    s = _ealing()
    return CalcResult(partnership=s.name, partnership_key=s.key, headline=headline,
                      inputs={"partnership": s.key, "derive": True, **(inputs or {})}, working=lines,
                      totals=totals, warnings=warnings, citations=citations)


def derive_council_share() -> CalcResult:
    """£571k ÷ 41,500 pupils = £13.759… ≈ £13.76 per pupil."""
    s = _ealing()
    contribution, pupils, published = (s.amount(k) for k in
                                       ("council_contribution", "council_pupils", "council_share_per_pupil"))
    rate = contribution / pupils
    lines = [WorkingLine(label="Council contribution ÷ pupils in the 74 subscribing schools",
                         formula=f"{exact(contribution)} ÷ {count(pupils)}", amount=rate,
                         key="council_share_rate", precision=2)]
    note = ("The prospectus rounds this to £13.76, and its primary table uses £13.76: e.g. 210 × £13.76 = "
            "£2,889.60 → £2,890 as published, whereas the unrounded rate would give £2,889.")
    headline = (f"Ealing's notional council share: {exact(contribution)} ÷ {count(pupils)} pupils = "
                f"{approx(rate)} ≈ {pence(rate)} per pupil (published as {exact(published)}).")
    totals = {"council_share_rate": rate, "council_share_published_rate": published}
    return _result(headline, lines, totals, [note],
                   _cite(s, "council_contribution", "council_share_per_pupil"))


def derive_per_pupil_rate(pool: Decimal | int, schools: int, per_school: Decimal | int,
                          pupils: int) -> CalcResult:
    """(pool − schools × per-school amount) ÷ pupils: the per-pupil rate that recovers the pool."""
    pool, per_school = Decimal(pool), Decimal(per_school)
    for value, what in ((schools, "subscribing schools"), (pupils, "pupils")):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise CalculationError(f"The number of {what} must be a whole number of at least 1; got {value!r}.")
    if pool <= 0 or per_school < 0:
        raise CalculationError("The pool must be more than £0 and the per-school amount at least £0.")
    fixed = per_school * schools
    remaining = pool - fixed
    if remaining <= 0:
        raise CalculationError(f"{count(schools)} schools × {exact(per_school)} = {exact(fixed)} already covers "
                               f"the {exact(pool)} pool, so no per-pupil rate is needed: try fewer schools or "
                               f"a larger pool.")
    rate = remaining / pupils
    lines = [
        WorkingLine(label="Per-school amounts", formula=f"{count(schools)} × {exact(per_school)}", amount=fixed,
                    key="per_school_total"),
        WorkingLine(label="Left to recover per pupil", formula=f"{exact(pool)} − {exact(fixed)}",
                    amount=remaining, key="remaining_pool"),
        WorkingLine(label="Per-pupil rate", formula=f"{exact(remaining)} ÷ {count(pupils)}", amount=rate,
                    key="per_pupil_rate", precision=2),
    ]
    headline = (f"Per-pupil rate: ({exact(pool)} − {count(schools)} × {exact(per_school)}) ÷ {count(pupils)} "
                f"= {approx(rate)} ≈ {pence(rate)} per pupil.")
    s = _ealing()
    return _result(headline, lines, {"per_school_total": fixed, "remaining_pool": remaining,
                                     "per_pupil_rate": rate}, [],
                   _cite(s, "primary_pool", "primary_per_school_s1"),
                   {"pool": int(pool), "schools": schools, "pupils": pupils})


def derive_scenario_rate(scenario: int) -> CalcResult:
    """A published scenario rate recomputed from the prospectus' pool, take-up and pupil count."""
    s = _ealing()
    result = derive_per_pupil_rate(s.amount("primary_pool"), int(s.amount(f"s{scenario}_primary_schools")),
                                   s.amount(f"primary_per_school_s{scenario}"),
                                   int(s.amount(f"s{scenario}_primary_pupils")))
    rate = result.totals["per_pupil_rate"]
    published = s.amount(f"primary_per_pupil_s{scenario}")
    for line in result.working:
        line.label = f"Scenario {scenario}: {line.label.lower()}"
    result.totals = {f"scenario_{scenario}_{k}": v for k, v in result.totals.items()}
    result.totals[f"scenario_{scenario}_published_rate"] = published
    for line in result.working:
        line.key = f"scenario_{scenario}_{line.key}"
    if rate.quantize(PENNY) != published:
        implied = (result.totals[f"scenario_{scenario}_remaining_pool"] / published).quantize(Decimal(1))
        result.warnings.append(
            f"The document's own rounding differs for scenario {scenario}: its figures give "
            f"{approx(rate)} ≈ {pence(rate)} per pupil, but it publishes {exact(published)}. {exact(published)} "
            f"would need about {count(implied)} pupils (the document says 'approximately "
            f"{count(s.amount(f's{scenario}_primary_pupils'))}'). The calculator uses the published "
            f"{exact(published)}, as the table does.")
    result.headline = (f"Scenario {scenario} primary rate: {result.headline.removeprefix('Per-pupil rate: ')} "
                       f"Published: {exact(published)}.")
    result.citations = _cite(s, "primary_pool", f"s{scenario}_primary_schools", f"primary_per_pupil_s{scenario}")
    return result


def derive_ealing_rates() -> CalcResult:
    """The council share and both scenario rates, each compared with the published figure."""
    parts = [derive_council_share(), derive_scenario_rate(1), derive_scenario_rate(2)]
    lines, totals, warnings, citations = [], {}, [], []
    for part in parts:
        lines += part.working
        totals.update(part.totals)
        warnings += part.warnings
        citations += [c for c in part.citations if c not in citations]
    warnings.append("The secondary rate (£6,500 + £3.40 per pupil, from a £140k high-school share) cannot be "
                    "checked the same way: the prospectus does not give the high-school pupil count.")
    headline = "How the Ealing 2018-19 rates arise: " + " ".join(p.headline for p in parts)
    return _result(headline, lines, totals, warnings, citations)
