"""Deterministic routing, whatever the answer backend: is this question a calculation, with which inputs?

`route_calculation` returns None for anything that is not a calculation (the documents answer those,
including "what is the £571k for?"); otherwise a RouteDecision that either carries a complete request,
or the missing inputs and a question for the user, or an error to explain. Nothing is calculated here:
the missing inputs are read off the schedule (`missing_inputs`); the caller runs `calculate` once.
Follow-ups ("and under scenario 2?", "what about an academy?", a bare "420" after we asked for pupils)
reuse the inputs of the calculation the conversation is about, read from the user's earlier messages in
`history`.
"""
from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from assistant.calculator.common import QUESTIONS
from assistant.calculator.engine import missing_inputs, question_for
from assistant.calculator.extract import AMOUNT_ASKED, MEMBER_FEE_QUESTION, Extraction, extract, merge
from assistant.calculator.models import CalcRequest
from assistant.calculator.schedule import load_schedules
from assistant.models import Message

# Figures only the Ealing prospectus publishes: a question about them is about Ealing.
EALING_ONLY = (r"\b(?:net position|new funding|de-?delegat\w*|mfg|council(?:'s)? (?:\w+ )?share|notional|"
               r"school effectiveness)\b|£16\b|£13\.76|£3\.49")
FLAT_FEE_MODELS = ("per_phase_flat", "cost_model", "range")


class RouteDecision(BaseModel):
    """What to do with a calculation question. Exactly one of `request`, `question_for_user`, `error`
    is set: run the request, ask the question, or explain the error."""

    request: CalcRequest | None = Field(None, description="Complete request: pass it to the calculator.")
    missing: list[str] = Field(default_factory=list, description="Inputs still needed, e.g. ['pupils'].")
    question_for_user: str | None = Field(None, description="Ask this instead of guessing.")
    error: str | None = Field(None, description="Why it cannot be calculated (names accepted values).")
    args: dict[str, Any] = Field(default_factory=dict, description="The inputs understood so far.")
    follow_up: bool = Field(False, description="True when inputs were reused from earlier messages.")


def route_calculation(question: str, history: list[Message] | None = None) -> RouteDecision | None:
    """Recognise a calculation request in `question` (with `history` for follow-ups), else None."""
    context = _context(history or [])
    ex = extract(question)
    if ex.derivation and ex.partnership in (None, "ealing"):
        return _derivation(ex)
    args, follow_up = _args_for(ex, context)
    if args is None:
        return None
    decision = _decide(args, ex, follow_up)
    if decision.question_for_user and not follow_up and not re.search(AMOUNT_ASKED, ex.text):
        return None  # "we're a secondary, is the NQT body included?" asks the documents, not for a figure
    return decision


def _context(history: list[Message]) -> dict | None:
    """Inputs of the calculation the conversation is currently about (reset by a non-calculation turn)."""
    context = None
    for message in history:
        if message.role != "user":
            continue
        ex = extract(message.content)
        if ex.derivation:
            context = None
            continue
        args, _ = _args_for(ex, context)
        context = args
    return context


def _args_for(ex: Extraction, context: dict | None) -> tuple[dict | None, bool]:
    """The inputs for this message, merged with the conversation's context when it is a follow-up."""
    own = _with_inference(ex)
    fresh = _is_fresh(ex, own)
    if fresh and not _missing(own):
        return own, False
    if context is not None:
        if ex.bare_number is not None:
            return _fill(context, ex.bare_number), True
        if ex.is_follow_up() or (fresh and ex.has_inputs):
            return _adapt(context, merge(context, ex.inputs())), True
    return (own, False) if fresh else (None, False)


def _with_inference(ex: Extraction) -> dict:
    args = ex.inputs()
    if ex.members is not None and args.get("partnership") not in (None, "hillingdon"):
        args.pop("members")  # "92 member schools" of another partnership is a fact, not an input
    if "partnership" not in args and not ex.partnerships and not ex.unsupported:
        if ex.scenario is not None or ex.derivation or re.search(EALING_ONLY, ex.text):
            args["partnership"] = "ealing"  # only Ealing publishes scenarios, net positions, de-delegation
    return args


def _is_fresh(ex: Extraction, args: dict) -> bool:
    """Does this message, on its own, ask for a calculation?"""
    if (ex.yes_no or ex.policy) and ex.pupils is None and ex.fe_text is None:
        return False  # "does each school in a federation pay?", "how is the fee set?": the documents say
    if ex.unsupported and not ex.partnerships:
        # "What would a 420-pupil school pay in Lewisham?" is refused; "When are Riverside subscriptions
        # invoiced?" is the documents' to answer (or decline): a fee word alone does not make a figure.
        return ex.pupils is not None or ex.fe_text is not None or (ex.calc_words and ex.amount_question)
    counted = ex.pupils is not None or ex.fe_text is not None or "members" in args
    if counted and ex.pupils is not None and ex.pupils > 5000 and not ex.calc_words:
        return False  # "41,500 pupils" in a question about the documents
    if counted:
        return True
    if not ex.calc_words:
        return False
    if ex.partnerships and not _missing(args) and (ex.amount_question or ex.words <= 8):
        return True  # e.g. "Harrow primary subscription", "Camden fees", "Hillingdon costs"
    return ex.personal and bool(ex.partnerships or ex.phase or ex.scenario or ex.amount_question)


def _missing(args: dict) -> list[str]:
    try:
        return missing_inputs(_request(args))
    except ValueError:  # inputs the request model refuses: `calculate` is not reached, nothing to ask for
        return []


def _request(args: dict) -> CalcRequest:
    return CalcRequest(partnership=args.get("partnership", ""), **{k: v for k, v in args.items() if k != "partnership"})


def _fill(context: dict, number: int) -> dict:
    """A bare number answers the question we asked: pupils, members or scenario, in that order."""
    missing = _missing(context)
    for name in ("pupils", "members", "scenario"):
        if name in missing and (name != "scenario" or number in (1, 2)):
            return {**context, name: number}
    name = "members" if context.get("partnership") == "hillingdon" else "pupils"
    return {**context, name: number}


def _adapt(context: dict, merged: dict) -> dict:
    """Drop carried-over pupils when the follow-up moves to a flat-fee partnership."""
    schedule = load_schedules().get(merged.get("partnership", ""))
    if schedule and schedule.key != context.get("partnership") and schedule.model in FLAT_FEE_MODELS:
        merged.pop("pupils", None)
        merged.pop("fe", None)
    return merged


def _decide(args: dict, ex: Extraction, follow_up: bool) -> RouteDecision:
    if ex.unsupported and not ex.partnerships:
        return RouteDecision(args=args, follow_up=follow_up, error=(
            f"The calculator has no fee schedule for {ex.unsupported}: its documents publish no per-school "
            f"fee or formula. It covers Ealing (ELP), Haringey (HEP), SAfE (Surrey), Harrow Learning Collegiate, "
            f"Camden Learning (range only) and Hillingdon (proposed costs)."))
    if len(ex.partnerships) > 1 and "partnership" not in args:
        names = " or ".join(load_schedules()[k].name for k in ex.partnerships)
        return _ask(args, ["partnership"], follow_up, f"Which partnership should I calculate for: {names}?")
    if ex.fe_text is not None and ex.fe is None and ex.pupils is None:
        pupils = float(ex.fe_text) * 210
        return RouteDecision(args=args, follow_up=follow_up, error=(
            f"Form entry must be a whole number; for {ex.fe_text} FE give the number of pupils instead "
            f"({ex.fe_text} × 210 = {pupils:g} pupils)."))
    if args.get("partnership") == "hillingdon" and "members" not in args and re.search(MEMBER_FEE_QUESTION, ex.text):
        return _ask(args, ["members"], follow_up, QUESTIONS["members"])
    try:
        request = _request(args)
    except ValueError as exc:
        return RouteDecision(args=args, follow_up=follow_up, error=str(exc))
    missing = missing_inputs(request)
    if missing:
        return _ask(args, missing, follow_up, question_for(request, missing))
    return RouteDecision(request=request, args=args, follow_up=follow_up)


def _ask(args: dict, missing: list[str], follow_up: bool, question: str) -> RouteDecision:
    known = _describe(args)
    if known:
        question = f"{question} (So far: {known}.)"
    return RouteDecision(args=args, missing=missing, question_for_user=question, follow_up=follow_up)


def _describe(args: dict) -> str:
    parts = []
    if key := args.get("partnership"):
        parts.append(load_schedules()[key].name)
    if phase := args.get("phase"):
        parts.append(phase)
    for name, fmt in (("pupils", "{} pupils"), ("fe", "{} FE"), ("scenario", "scenario {}"),
                      ("members", "{} member schools")):
        if args.get(name) is not None:
            parts.append(fmt.format(args[name]))
    if args.get("maintained") is not None:
        parts.append("maintained" if args["maintained"] else "academy")
    return ", ".join(parts)


def _derivation(ex: Extraction) -> RouteDecision:
    """'How was the £13.76 worked out?' / 'what would the per-pupil rate be if 55 schools…'."""
    args: dict[str, Any] = {"partnership": "ealing", "derive": True}
    if ex.schools is not None and ex.pupils is not None:
        args.update(schools=ex.schools, pupils=ex.pupils)
        if ex.pool is not None:
            args["pool"] = ex.pool
    return RouteDecision(request=CalcRequest(**args), args=args)

