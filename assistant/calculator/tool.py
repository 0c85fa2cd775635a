"""The LangChain tool a chat model calls. It returns `CalcResult.to_dict()`, or on bad input
`{"error": message, "missing": [...]}` (missing is empty unless inputs were missing) — never raises.

The tool object itself (`funding_calculator`) is built on first use: `langchain_core.tools` pulls LangChain's
tracer stack (about a second at start), and only a chat model with tool calls needs it."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from assistant.calculator.engine import calculate
from assistant.calculator.models import CalcRequest, MissingInputError
from assistant.errors import CalculationError

DESCRIPTION = (
    "Works out what a school pays an education partnership, with the working line by line and the source "
    "document of every rate. Ealing (ELP, 2018-19): subscription by phase and scenario; for primaries also "
    "new funding, de-delegation and net position. Haringey (£19/pupil), SAfE Surrey (89p/pupil), Harrow "
    "Learning Collegiate (flat by phase), Camden Learning (published range only), Hillingdon (proposed "
    "offer's costs and break-even fee per member school). Set derive=true for how Ealing's rates arise."
)


def run_funding_calculator(**kwargs: Any) -> dict[str, Any]:
    """Validate and calculate; errors come back as {"error", "missing"} so the model can explain them."""
    try:
        return calculate(CalcRequest(**kwargs)).to_dict()
    except MissingInputError as exc:
        return {"error": str(exc), "missing": exc.missing}
    except CalculationError as exc:
        return {"error": str(exc), "missing": []}


ACCEPTED = {
    "pupils": "a whole number from 1 to 5,000", "fe": "a whole number of forms of entry",
    "scenario": "1 or 2", "members": "a whole number of member schools", "maintained": "true or false",
    "partnership": "ealing, haringey, safe, harrow, camden or hillingdon",
    "phase": "primary, secondary or special",
}


def explain_invalid(exc: ValidationError) -> str:
    """'Invalid calculator input — pupils: Input should be a valid integer (accepted: …).'"""
    problems = []
    for e in exc.errors():
        name = ".".join(map(str, e["loc"])) or "input"
        hint = f" (accepted: {ACCEPTED[name]})" if name in ACCEPTED else ""
        problems.append(f"{name}: {e['msg']}{hint}")
    return f"Invalid calculator input — {'; '.join(problems)}."


def _invalid_arguments(exc: ValidationError) -> dict[str, Any]:
    return {"error": explain_invalid(exc), "missing": []}


@lru_cache(maxsize=1)
def _build_tool():
    from langchain_core.tools import StructuredTool

    return StructuredTool.from_function(
        func=run_funding_calculator,
        name="funding_calculator",
        description=DESCRIPTION,
        args_schema=CalcRequest,
        handle_validation_error=_invalid_arguments,
    )


def __getattr__(name: str):
    if name == "funding_calculator":
        return _build_tool()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
