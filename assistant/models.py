"""The answer contract shared by the CLI (`ask --json`), HTTP, Slack and eval."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field


class Message(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class Filters(BaseModel):
    """Metadata filter applied to retrieval."""

    partnership: str | None = None
    kind: str | None = None


class Citation(BaseModel):
    n: int = Field(description="The number used by the [n] markers in the answer.")
    source: str = Field(description="File name of the source document.")
    title: str
    section: str | None = None
    page: int | None = None
    snippet: str


class ToolCall(BaseModel):
    name: str
    args: dict[str, Any]
    result: dict[str, Any]


class CalculationLine(BaseModel):
    """One line of the working: what it is, how it is computed, the exact amount and how it is shown."""

    label: str
    formula: str
    amount: Decimal | None = Field(None, description="Exact, unrounded (pounds); null for a line with no amount.")
    display: str | None = Field(None, description="Rounded for display: nearest pound, half up (pence for rates).")
    precision: int = Field(0, description="Decimal places shown: 0 for money, 2 for per-pupil rates.")


class Calculation(BaseModel):
    """A funding calculator result as data, so adapters render it without parsing the answer text."""

    partnership: str = Field(description="The partnership's name, e.g. 'Ealing Learning Partnership'.")
    partnership_key: str = Field(description="The calculator's key: ealing, haringey, safe, harrow, camden, hillingdon.")
    headline: str = Field(description="The figure in one sentence.")
    inputs: dict[str, Any] = Field(description="The inputs the calculation used (form entry resolved to pupils).")
    working: list[CalculationLine]
    totals: dict[str, Decimal] = Field(description="Exact totals in pounds, by name (e.g. subscription, net_position).")
    display: dict[str, str] = Field(description="The totals rounded for display, by name.")
    warnings: list[str] = Field(default_factory=list)
    citations: list[int] = Field(default_factory=list, description="Numbers of the answer's citations that "
                                 "give the rates used.")


class Answer(BaseModel):
    """What `Assistant.ask` returns.

    `grounded` is False when the assistant declined (the citations are then the closest sources)
    or when it asks for missing input. `calculation` carries a calculator result as data.
    """

    answer: str
    citations: list[Citation] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    grounded: bool = True
    calculation: Calculation | None = Field(None, description="Set when the funding calculator produced the "
                                            "answer: the figures, working and rate citations as data.")
