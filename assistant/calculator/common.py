"""Helpers shared by the partnership engines: limits, citations, form entry."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from assistant.calculator.models import CalcRequest, CalcResult, MissingInputError, SourceQuote, WorkingLine
from assistant.calculator.money import count
from assistant.calculator.schedule import Schedule, load_schedules
from assistant.errors import CalculationError

MAX_PUPILS = 5000  # more than any one school's roll: anything above is a typo or a whole-area figure
MAX_MEMBERS = 1000
PHASES = ("primary", "secondary", "special")

QUESTIONS = {
    "partnership": "Which partnership? The calculator covers Ealing (ELP), Haringey (HEP), SAfE (Surrey), "
                   "Harrow Learning Collegiate, Camden Learning and Hillingdon.",
    "phase": "Which phase is the school: primary, secondary or special?",
    "pupils": "How many pupils are on roll (or, for a primary, how many forms of entry)?",
    "scenario": "Which scenario: 1 (60 primaries subscribe) or 2 (50 primaries subscribe)?",
    "members": "How many member schools would share the costs?",
}


def ask_for(missing: list[str], hint: str | None = None) -> MissingInputError:
    """The error to raise when inputs are missing: what is known so far, then one question per input."""
    questions = " ".join(QUESTIONS[m] for m in missing)
    return MissingInputError(f"{hint} {questions}" if hint else questions, missing)


@dataclass
class Context:
    """A validated request with its schedule, pupil count and any working produced while resolving it."""

    req: CalcRequest
    schedule: Schedule
    phase: str | None
    pupils: int | None
    lines: list[WorkingLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rate_ids: list[str] = field(default_factory=list)
    fe_cited: bool = False
    extra_citations: list[SourceQuote] = field(default_factory=list)

    def cite(self, *rate_ids: str) -> None:
        self.rate_ids.extend(rate_ids)

    def citations(self) -> list[SourceQuote]:
        """Sources of every rate used, in order of first use, without repeats."""
        seen: dict[tuple[str, str], SourceQuote] = {}
        refs = [self.schedule.rates.get(r) or self.schedule.sources[r] for r in self.rate_ids]
        if self.fe_cited:
            refs.append(load_schedules()["ealing"].rate("pupils_per_fe"))
        for ref in [*refs, *self.extra_citations]:
            seen.setdefault((ref.source, ref.quote), SourceQuote(source=ref.source, quote=ref.quote,
                                                                  year=ref.year))
        return list(seen.values())


def check_count(value: int | None, what: str, maximum: int) -> None:
    """Counts must be whole numbers from 1 to `maximum`."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise CalculationError(f"The number of {what} must be a whole number from 1 to {maximum:,}; "
                               f"got {value!r}.")
    if value <= 0:
        raise CalculationError(f"The number of {what} must be at least 1 (accepted: 1 to {maximum:,}); "
                               f"got {value}.")
    if value > maximum:
        raise CalculationError(f"{value:,} {what} is not plausible here: the accepted range is 1 to "
                               f"{maximum:,}.")


def resolve_pupils(ctx: Context) -> None:
    """Turn form entry into pupils (210 per FE, as in the Ealing primary table)."""
    fe = ctx.req.fe
    if fe is None:
        return
    per_fe = load_schedules()["ealing"].rate("pupils_per_fe").amount
    if ctx.phase in ("secondary", "special"):
        raise CalculationError(f"Form entry is only defined for primaries here (210 pupils per FE, as in the "
                               f"Ealing table); for a {ctx.phase} school give the number of pupils instead.")
    if ctx.phase is None:
        ctx.phase = "primary"
        ctx.warnings.append("Form entry was given without a phase, so this assumes a primary school.")
    ctx.pupils = int(fe * per_fe)
    ctx.fe_cited = True
    ctx.lines.append(WorkingLine(
        label="Pupils from form entry (assumes 210 pupils per form of entry, as in the Ealing primary table)",
        formula=f"{fe} FE × {per_fe} = {count(ctx.pupils)} pupils"))


def build_result(ctx: Context, headline: str, totals: dict[str, Decimal]) -> CalcResult:
    """Assemble the result from the context's working, warnings and citations."""
    inputs = ctx.req.model_dump(exclude_none=True, exclude_defaults=True)
    inputs["partnership"] = ctx.schedule.key
    if ctx.phase:
        inputs["phase"] = ctx.phase
    if ctx.pupils is not None:
        inputs["pupils"] = ctx.pupils
    return CalcResult(partnership=ctx.schedule.name, partnership_key=ctx.schedule.key, headline=headline,
                      inputs=inputs, working=ctx.lines, totals=totals, warnings=ctx.warnings,
                      citations=ctx.citations())
