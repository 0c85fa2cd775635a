"""Turn a RouteDecision into the text, tool call and sources of an answer (used by `Assistant.ask`)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from assistant.calculator.models import SourceQuote
from assistant.calculator.router import RouteDecision, route_calculation
from assistant.calculator.tool import funding_calculator
from assistant.models import Answer, Citation, Message, ToolCall


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


def answer_calculation(question: str, history: Sequence[Message] | None = None, *,
                       titles: Mapping[str, str] | None = None) -> Answer | None:
    """The `calculator_router` of `Assistant.ask`: None when `question` is not a calculation, else an Answer
    whose text ends with numbered sources ([1] …) matching `citations`, and whose `tool_calls` records the
    funding_calculator call (none when we only ask for missing input). `titles` maps corpus file names to
    document titles for the citations (file name when absent)."""
    decision = route_calculation(question, list(history or []))
    if decision is None:
        return None
    reply = reply_for(decision)
    titles = titles or {}
    citations = [Citation(n=n, source=s.source, title=titles.get(s.source, s.source), section=None,
                          snippet=s.quote) for n, s in enumerate(reply.sources, 1)]
    text = reply.text
    if citations:
        body = text.split("\nSources:")[0].rstrip()
        text = body + "\n\nSources:\n" + "\n".join(f"[{c.n}] {c.source}: \"{c.snippet}\"" for c in citations)
    calls = [] if reply.tool_args is None else [ToolCall(name=funding_calculator.name, args=reply.tool_args,
                                                          result=reply.tool_result or {})]
    return Answer(answer=text, citations=citations, tool_calls=calls, grounded=reply.grounded)
