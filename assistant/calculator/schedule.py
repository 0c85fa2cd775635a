"""Fee schedules: one TOML file per partnership in `schedules/`, every rate with its source and quote."""
from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

SCHEDULE_DIR = Path(__file__).with_name("schedules")

Model = Literal["ealing", "per_pupil", "per_phase_flat", "range", "cost_model"]


class SourceRef(BaseModel):
    """A statement in a corpus document that the calculator relies on."""

    label: str
    source: str = Field(description="Corpus file name.")
    quote: str = Field(description="Exact words from the source (whitespace-normalised).")
    year: str


class Rate(SourceRef):
    """One published figure: its exact amount and how the quote writes it (e.g. '£4k', '89p')."""

    amount: Decimal
    as_written: str


class CostPart(BaseModel):
    label: str
    quantity: int
    rate: str = Field(description="Id of a rate in the same schedule.")


class CostItem(BaseModel):
    """A line of a cost table: units × Σ(quantity × rate), checked against the stated figures."""

    id: str
    section: Literal["core", "additional"]
    label: str
    quote: str
    stated_total: Decimal
    stated_total_quote: str | None = None
    stated_unit_cost: Decimal | None = None
    unit: str | None = None
    units: int = 1
    units_note: str | None = None
    rates_note: str | None = None
    parts: list[CostPart]


class Schedule(BaseModel):
    """Everything the calculator knows about one partnership's charges."""

    key: str
    name: str
    aliases: list[str]
    model: Model
    year: str
    supports: str
    notes: list[str] = Field(default_factory=list)
    rates: dict[str, Rate]
    sources: dict[str, SourceRef] = Field(default_factory=dict)
    items: list[CostItem] = Field(default_factory=list)

    def rate(self, rate_id: str) -> Rate:
        return self.rates[rate_id]

    def amount(self, rate_id: str) -> Decimal:
        return self.rates[rate_id].amount


@lru_cache(maxsize=1)
def load_schedules() -> dict[str, Schedule]:
    """All schedules keyed by partnership key, read once."""
    schedules = {}
    for path in sorted(SCHEDULE_DIR.glob("*.toml")):
        with path.open("rb") as fh:
            schedule = Schedule.model_validate(tomllib.load(fh))
        schedules[schedule.key] = schedule
    return schedules


def _alias_key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def resolve_partnership(name: str) -> Schedule | None:
    """The schedule whose key or alias matches `name` (case-insensitive), else None."""
    wanted = _alias_key(name)
    for schedule in load_schedules().values():
        if wanted == schedule.key or wanted in (_alias_key(a) for a in schedule.aliases):
            return schedule
    return None


def accepted_partnerships() -> str:
    """Human list of accepted names, for error messages."""
    return "; ".join(f"{s.name} ({', '.join(s.aliases[:2])})" for s in load_schedules().values())
