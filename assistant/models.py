"""The answer contract shared by the CLI (`ask --json`), HTTP, Slack and eval."""
from __future__ import annotations

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


class Answer(BaseModel):
    """What `Assistant.ask` returns.

    `grounded` is False when the assistant declined (the citations are then the closest sources)
    or when it asks for missing input.
    """

    answer: str
    citations: list[Citation] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    grounded: bool = True
