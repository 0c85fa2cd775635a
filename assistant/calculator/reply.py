"""A routed calculation question → one `calculate()` → one Answer, with the result as data (`calculation`)
and as text (headline, working, notes, numbered sources) rendered from that same data."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from assistant.calculator.engine import calculate, missing_inputs, question_for
from assistant.calculator.models import CalcRequest, CalcResult, MissingInputError, WorkingLine
from assistant.calculator.money import pence, pounds
from assistant.calculator.router import RouteDecision, route_calculation
from assistant.errors import CalculationError
from assistant.models import Answer, Calculation, CalculationLine, Citation, Message, ToolCall

TOOL_NAME = "funding_calculator"  # the name the chat model's tool has; tool calls record it either way
ASK_PREFIX = "To work that out I need a little more information."


def answer_calculation(question: str, history: Sequence[Message] | None = None, *,
                       titles: Mapping[str, str] | None = None) -> Answer | None:
    """None when `question` is not a calculation; else the calculator's Answer (or the question for a
    missing input, or the reason it cannot be calculated). `titles` maps corpus file names to document
    titles for the rate citations (the file name when absent)."""
    decision = route_calculation(question, list(history or []))
    return None if decision is None else answer_for(decision, titles)


def answer_for(decision: RouteDecision, titles: Mapping[str, str] | None = None) -> Answer:
    """Ask for what is missing, explain what cannot be calculated, or calculate once and answer."""
    if decision.question_for_user:
        return Answer(answer=f"{ASK_PREFIX} {decision.question_for_user}", grounded=False)
    if decision.request is None:
        return refusal(decision.error or "the inputs are not usable.", dict(decision.args))
    return answer_for_request(decision.request, titles)


def answer_for_args(args: dict[str, Any], titles: Mapping[str, str] | None = None) -> Answer:
    """The calculator's Answer for tool-call arguments (a chat model's): one calculation, or the reason not."""
    try:
        request = CalcRequest(**args)
    except ValueError as exc:
        return refusal(str(exc), dict(args))
    return answer_for_request(request, titles)


def answer_for_request(request: CalcRequest, titles: Mapping[str, str] | None = None) -> Answer:
    """A validated request: ask for missing inputs (read off the schedule), else calculate once."""
    missing = missing_inputs(request)
    if missing:
        return Answer(answer=f"{ASK_PREFIX} {question_for(request, missing)}", grounded=False)
    args = request.model_dump(exclude_none=True, exclude_defaults=True)
    try:
        result = calculate(request)
    except MissingInputError as exc:  # only if the schedule needs more than `missing_inputs` knew
        return Answer(answer=f"{ASK_PREFIX} {exc}", grounded=False)
    except CalculationError as exc:
        return refusal(str(exc), args)
    return result_answer(result, args, titles)


def refusal(error: str, args: dict[str, Any]) -> Answer:
    call = ToolCall(name=TOOL_NAME, args=args, result={"error": error, "missing": []})
    return Answer(answer=f"I can't calculate that: {error}", tool_calls=[call], grounded=False)


def result_answer(result: CalcResult, args: dict[str, Any], titles: Mapping[str, str] | None = None) -> Answer:
    """The Answer for a calculator result: `calculation` holds the figures; the text is rendered from it."""
    titles = titles or {}
    citations = [Citation(n=n, source=q.source, title=titles.get(q.source, q.source), snippet=q.quote)
                 for n, q in enumerate(result.citations, 1)]
    calculation = as_calculation(result, [c.n for c in citations])
    call = ToolCall(name=TOOL_NAME, args=args, result=result.to_dict())
    return Answer(answer=calculation_text(calculation, citations), citations=citations, tool_calls=[call],
                  grounded=True, calculation=calculation)


def as_calculation(result: CalcResult, citation_numbers: list[int]) -> Calculation:
    working = [CalculationLine(label=w.label, formula=w.formula, amount=w.amount, precision=w.precision,
                               display=None if w.amount is None else (pence(w.amount) if w.precision else pounds(w.amount)))
               for w in result.working]
    return Calculation(partnership=result.partnership, partnership_key=result.partnership_key,
                       headline=result.headline, inputs=dict(result.inputs), working=working,
                       totals=dict(result.totals), display=result.to_dict()["display"],
                       warnings=list(result.warnings), citations=citation_numbers)


def calculation_text(calculation: Calculation, citations: Sequence[Citation]) -> str:
    """Plain text for every adapter that shows text: the figure, the working line by line, notes, sources."""
    lines = [calculation.headline, "", "Working:"]
    for line in calculation.working:
        lines.append(f"- {line.label}: {line.formula}{shown(line)}")
    if calculation.warnings:
        lines += ["", "Notes:"] + [f"- {w}" for w in calculation.warnings]
    if citations:
        lines += ["", "Sources:"] + [f"[{c.n}] {c.source}: \"{c.snippet}\"" for c in citations]
    return "\n".join(lines)



def shown(line: CalculationLine) -> str:
    """' = £5,779.20 (£5,779)', exactly as the calculator's own working shows it."""
    return WorkingLine(label=line.label, formula=line.formula, amount=line.amount, precision=line.precision).shown()
