"""Calculator inputs and results."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.calculator.money import approx, display, exact, pence, pounds
from assistant.errors import CalculationError

PHASE_SYNONYMS = {
    "primaries": "primary", "primary school": "primary",
    "secondaries": "secondary", "secondary school": "secondary", "high": "secondary",
    "high school": "secondary", "special school": "special", "special schools": "special",
}


class CalcRequest(BaseModel):
    """What to calculate. Only `partnership` is always needed; which other inputs are required depends
    on the partnership (see `list_partnerships()`); `calculate` names any that are missing."""

    model_config = ConfigDict(extra="forbid")

    partnership: str = Field(description="Partnership name or alias, case-insensitive: ealing/elp, "
                             "haringey/hep, safe/surrey, harrow, camden, hillingdon/hlp.")
    phase: str | None = Field(None, description="School phase: primary, secondary or special. Needed "
                              "for Ealing and Harrow; Haringey and SAfE charge every phase the same.")
    pupils: int | None = Field(None, description="Pupils on roll (1-5,000). Give pupils or fe, not both. "
                               "Not used for flat fees (Ealing special, Harrow, Hillingdon).")
    fe: int | None = Field(None, description="Forms of entry for a primary school; 1 FE = 210 pupils, "
                           "as in the Ealing table.")
    scenario: int | None = Field(None, description="Ealing only: subscription scenario 1 (60 primaries "
                                 "subscribe) or 2 (50 primaries subscribe).")
    maintained: bool | None = Field(None, description="Ealing primaries: true for a maintained school "
                                    "(pays de-delegation), false for an academy. Unknown: assumed maintained.")
    members: int | None = Field(None, description="Hillingdon only: number of member schools sharing the "
                                "costs, for the break-even flat fee per school.")
    derive: bool = Field(False, description="Ealing only: instead of a school's figures, show how the "
                         "published rates are derived (council share £13.76, scenario rates £3.36/£6.11); "
                         "with schools and pupils (and optionally pool), a what-if per-pupil rate.")
    schools: int | None = Field(None, description="With derive: number of subscribing primary schools.")
    pool: int | None = Field(None, description="With derive: primary pool to recover in pounds "
                             "(default £331,000).")

    @field_validator("partnership", mode="before")
    @classmethod
    def _strip_partnership(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("phase", mode="before")
    @classmethod
    def _normalise_phase(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = " ".join(value.lower().split())
            return PHASE_SYNONYMS.get(value, value) or None
        return value


class MissingInputError(CalculationError):
    """A required input was not given; `missing` names it, the message asks for it."""

    def __init__(self, message: str, missing: list[str]):
        super().__init__(message)
        self.missing = missing


class WorkingLine(BaseModel):
    """One line of shown working: what it is, how it is computed, the exact amount."""

    label: str
    formula: str
    amount: Decimal | None = None
    key: str | None = Field(None, description="Name of the total this line produces, if any.")
    precision: int = Field(0, description="Decimal places for display: 0 for money, 2 for per-pupil rates.")

    def shown(self, with_rounded: bool = True) -> str:
        """' = £5,779.20 (£5,779)': the exact amount, then the rounded one when they differ."""
        if self.amount is None:
            return ""
        if self.precision:
            full, rounded = approx(self.amount, 4), pence(self.amount)
        else:
            full, rounded = exact(self.amount), pounds(self.amount)
        if full == self.formula:  # a flat published amount: nothing to compute
            return ""
        return f" = {full}" + ("" if full == rounded or not with_rounded else f" ({rounded})")


class SourceQuote(BaseModel):
    """The document and exact words a figure comes from."""

    source: str
    quote: str
    year: str | None = None


class CalcResult(BaseModel):
    """A calculation: headline figure, inputs, working line by line, totals, warnings and sources."""

    partnership: str
    partnership_key: str
    headline: str
    inputs: dict[str, Any]
    working: list[WorkingLine]
    totals: dict[str, Decimal]
    warnings: list[str] = Field(default_factory=list)
    citations: list[SourceQuote] = Field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: totals at top level and under `totals` as unrounded numbers (pounds), rounded
        pound strings under `display`, plus working, warnings, citations and the rendered `text`."""
        totals = {k: float(v) for k, v in self.totals.items()}
        return {
            "partnership": self.partnership,
            "partnership_key": self.partnership_key,
            "headline": self.headline,
            "inputs": dict(self.inputs),
            **totals,
            "totals": totals,
            "display": {k: display(k, v) for k, v in self.totals.items()},
            "working": [
                {"label": w.label, "formula": w.formula,
                 "amount": None if w.amount is None else float(w.amount),
                 "display": None if w.amount is None else (pence(w.amount) if w.precision else pounds(w.amount)),
                 "key": w.key}
                for w in self.working
            ],
            "warnings": list(self.warnings),
            "citations": [c.model_dump() for c in self.citations],
            "text": self.to_text(),
        }

    def to_text(self) -> str:
        """Plain text for answers: the figure first, then the working line by line, then sources."""
        lines = [self.headline, "", "Working:"]
        for w in self.working:
            lines.append(f"- {w.label}: {w.formula}{w.shown()}")
        if self.warnings:
            lines += ["", "Notes:"] + [f"- {w}" for w in self.warnings]
        if self.citations:
            lines += ["", "Sources:"] + [f"- {c.source}: \"{c.quote}\"" for c in self.citations]
        return "\n".join(lines)
