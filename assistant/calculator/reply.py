"""Turn a RouteDecision into the text, tool call and sources of an answer (used by `Assistant.ask`)."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from assistant.calculator.models import SourceQuote
from assistant.calculator.router import RouteDecision
from assistant.calculator.tool import funding_calculator


class CalcReply(BaseModel):
    """What to answer. `tool_args`/`tool_result` are None when nothing was run (we asked for input)."""

    text: str
    grounded: bool = Field(description="False when asking for input or explaining an error.")
    tool_args: dict[str, Any] | None = None
    tool_result: dict[str, Any] | None = None
    sources: list[SourceQuote] = Field(default_factory=list)


def reply_for(decision: RouteDecision) -> CalcReply:
    """Run the calculator tool for a complete request; otherwise ask for the missing input or explain."""
    if decision.request is not None:
        args = decision.request.model_dump(exclude_none=True, exclude_defaults=True)
        result = funding_calculator.invoke(args)
        if "error" in result:
            return CalcReply(text=f"I can't calculate that: {result['error']}", grounded=False,
                             tool_args=args, tool_result=result)
        return CalcReply(text=result["text"], grounded=True, tool_args=args, tool_result=result,
                         sources=[SourceQuote(**c) for c in result["citations"]])
    if decision.question_for_user:
        return CalcReply(text=f"To work that out I need a little more information. {decision.question_for_user}",
                         grounded=False)
    result = {"error": decision.error, "missing": []}
    return CalcReply(text=f"I can't calculate that: {decision.error}", grounded=False,
                     tool_args=dict(decision.args), tool_result=result)
