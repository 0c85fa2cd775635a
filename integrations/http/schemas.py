"""Request and response bodies of the HTTP API (the Answer contract itself comes from the core)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.models import Citation, Message


class AskRequest(BaseModel):
    """A question, optionally with the earlier turns of the conversation and a partnership filter."""

    model_config = ConfigDict(extra="forbid")

    # Length and emptiness are checked by the Assistant so every adapter reports them the same way.
    question: str = Field(description="The question (1–2,000 characters).", examples=["Who sits on the ELP board?"])
    history: list[Message] = Field(default_factory=list, description="Earlier turns, oldest first.")
    partnership: str | None = Field(
        None, description="Only use documents about this partnership (full or short name, e.g. 'Ealing').",
    )


class FeedbackRequest(BaseModel):
    """A thumbs up or down on one answer."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=4000)
    answer: str = Field(min_length=1, max_length=40000)
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=4000)
    # Optional, so older clients keep working: what reproduces the answer (the same fields as `POST /ask`,
    # and the answer's citations). The backend and the index marker are filled in by the server.
    history: list[Message] | None = Field(None, description="The earlier turns sent with the question.")
    partnership: str | None = Field(None, max_length=200, description="The partnership filter sent with the question.")
    citations: list[Citation] | None = Field(None, max_length=50, description="The answer's citations.")
    expected_source: str | None = Field(None, max_length=500, description="The document holding the right answer.")


class DocumentOut(BaseModel):
    source: str = Field(description="File name of the document.")
    title: str
    kind: str
    partnership: str | list[str] = Field(description="The partnership(s) the document is about.")
    chunks: int


class WorkingLineOut(BaseModel):
    label: str
    formula: str
    amount: float | None = Field(description="Exact amount in pounds (unrounded); null for a line with no amount.")
    display: str | None = Field(description="Rounded for display: nearest pound, half up (pence for rates).")
    key: str | None = Field(description="The total this line produces, if any.")


class RateSourceOut(BaseModel):
    source: str = Field(description="File name of the document the rate is quoted from.")
    quote: str = Field(description="The document's exact words.")
    year: str | None = None


class CalculateOut(BaseModel):
    """The calculator's result. Each total also appears at the top level (e.g. `net_position`), as before."""

    model_config = ConfigDict(extra="allow")

    partnership: str
    partnership_key: str
    headline: str = Field(description="The figure in one sentence.")
    inputs: dict[str, Any] = Field(description="The inputs used (form entry resolved to pupils).")
    totals: dict[str, float] = Field(description="Totals in pounds, unrounded, by name.")
    display: dict[str, str] = Field(description="The totals rounded for display, by name.")
    working: list[WorkingLineOut]
    warnings: list[str]
    citations: list[RateSourceOut]
    text: str = Field(description="The result as plain text: headline, working, notes, sources.")


class CalcPartnership(BaseModel):
    key: str
    name: str
    aliases: list[str]
    model: str = Field(description="Which kind of fee schedule: ealing, per_pupil, per_phase_flat, range, cost_model.")
    year: str | None = None
    supports: str = Field(description="Which inputs the calculator uses for this partnership.")


class PartnershipsOut(BaseModel):
    partnerships: list[CalcPartnership] = Field(description="Partnerships the calculator has fee schedules for.")


class Health(BaseModel):
    status: str
    detail: str | None = None


class Ready(Health):
    warming: bool = Field(False, description="True while sentence vectors are still being embedded in the "
                                             "background after start-up: answers work, some a little slower.")


class ErrorOut(BaseModel):
    """Body of every error response."""

    error: str = Field(description="What went wrong, in words a user can act on.")
    request_id: str | None = Field(None, description="Also in the X-Request-ID header and the server log.")
    details: list[dict[str, Any]] | None = Field(None, description="422 for invalid fields: one entry per problem.")
    valid: list[str] | None = Field(None, description="422 for an unknown or ambiguous partnership: the valid names.")
    missing: list[str] | None = Field(None, description="422 from the calculator: the inputs it still needs.")


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "required": True, "schema": {"type": "string"}}


REQUEST_ID = {"X-Request-ID": _header("The request id, also in the body and the server log.")}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text, "headers": {**REQUEST_ID, **headers}}
    for status, (text, headers) in {
        401: ("Missing or invalid API key (only when PARTNERSHIP_API_KEYS is set).",
              {"WWW-Authenticate": _header("Bearer")}),
        413: ("Request body over 64 KB.", {}),
        422: ("Invalid input, or a body that is not JSON (or not UTF-8); the message says which field and why.",
              {}),
        429: ("Rate limit exceeded.", {"Retry-After": _header("Seconds until the next request is allowed.")}),
        503: ("The index is empty or the vector store is unavailable.", {}),
    }.items()
}
# Probes are neither authenticated nor rate-limited and read no body, but the size limit still applies to one.
PROBE_RESPONSES: dict[int | str, dict[str, Any]] = {413: ERROR_RESPONSES[413]}
