"""Funding calculator: cited fee schedules (schedules/*.toml), exact Decimal engines with shown working,
the LangChain tool `funding_calculator`, and the deterministic question router."""
from assistant.calculator.derivations import (
    derive_council_share,
    derive_ealing_rates,
    derive_per_pupil_rate,
    derive_scenario_rate,
)
from assistant.calculator.engine import calculate, list_partnerships, missing_inputs
from assistant.calculator.models import CalcRequest, CalcResult, MissingInputError, SourceQuote, WorkingLine
from assistant.calculator.reply import answer_calculation, answer_for, answer_for_args, answer_for_request
from assistant.calculator.router import RouteDecision, route_calculation
from assistant.calculator.tool import run_funding_calculator

__all__ = [
    "CalcRequest", "CalcResult", "MissingInputError", "RouteDecision", "SourceQuote", "WorkingLine",
    "answer_calculation", "answer_for", "answer_for_args", "answer_for_request", "calculate", "derive_council_share", "derive_ealing_rates", "derive_per_pupil_rate",
    "derive_scenario_rate", "funding_calculator", "list_partnerships", "missing_inputs", "route_calculation",
    "run_funding_calculator",
]


def __getattr__(name: str):
    # The LangChain tool is built on first use (see assistant/calculator/tool.py): it is slow to import.
    if name == "funding_calculator":
        from assistant.calculator import tool

        return tool.funding_calculator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
