"""`GenerativeBackend`: a LangChain chat model as the answer backend of `Assistant.ask`.

It only ever sees questions that passed the evidence check. It rewrites follow-ups for retrieval, answers
from fenced, numbered context, lets the model call the funding calculator as a native tool, and checks the
citations afterwards. Whatever goes wrong with the model endpoint, it answers anyway: the extractive
answer (or the deterministic calculator) with a short notice. It never raises.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence

import httpx
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ValidationError

from assistant.answering import CitationBook
from assistant.errors import CalculationError
from assistant.generative.citations import FALLBACK_SOURCES, guard_citations
from assistant.generative.prompt import answer_messages, rewrite_messages
from assistant.models import Answer, Message, ToolCall

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 3
COOLDOWN_SECONDS = 30.0  # after a timeout or refused connection, don't make every request wait for it again
NOTICE = "(The generative model was unavailable, so this answer is quoted directly from the documents.)"
NOTHING_TO_QUOTE = "I can't answer that from the partnership documents: the passages I found don't address what you asked."
THINKING = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)  # reasoning models (qwen3, r1) via Ollama

Fallback = Callable[[str, list[Document]], Answer | None]
Router = Callable[[str, list[Message]], Answer | None]


class GenerationError(Exception):
    """The model answered, but not usably (malformed or unknown tool call, empty text, endless tool calls)."""


def is_unreachable(exc: BaseException) -> bool:
    """Timeouts and refused connections: the endpoint is down, not just confused."""
    import openai

    return isinstance(exc, (openai.APIConnectionError, httpx.TransportError, ConnectionError, TimeoutError))


def failure_reason(exc: BaseException) -> str:
    import openai

    if isinstance(exc, openai.APITimeoutError) or isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return "timed out"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, (openai.APIConnectionError, httpx.TransportError, ConnectionError)):
        return "connection failed"
    if isinstance(exc, GenerationError):
        return str(exc)
    return f"{exc.__class__.__name__}: {exc}"


def visible_text(reply: BaseMessage) -> str:
    return THINKING.sub("", reply.text).strip()


def as_result(raw) -> dict:
    """A tool's return value as the JSON object recorded in `Answer.tool_calls`."""
    if isinstance(raw, BaseModel):
        raw = raw.model_dump(mode="json")
    elif hasattr(raw, "to_dict"):
        raw = raw.to_dict()
    elif isinstance(raw, ToolMessage):
        raw = raw.content
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {"text": raw}
    return raw if isinstance(raw, dict) else {"value": raw}


class GenerativeBackend:
    """Answers with a chat model; implements `assistant.core.AnswerBackend`.

    Args:
        model: any LangChain chat model.
        fallback: the extractive answerer's `answer(question, hits)`, used whenever the model fails (it may
            return None when no sentence answers; the backend then says so and lists the closest sources).
        name: shown by `partnership doctor` and in logs (e.g. "model llama3.1 at http://…/v1").
        tools: tools bound natively (the funding calculator); empty when the model has no tool calling,
            which makes `handles_calculations` False so `Assistant.ask` runs the deterministic router.
        router: the deterministic calculator router, tried before `fallback` when the model that would
            have done the calculation fails.
        cooldown: seconds to skip the model after it timed out or refused the connection.
    """

    def __init__(
        self,
        model: BaseChatModel,
        fallback: Fallback,
        *,
        name: str = "generative",
        tools: Sequence[BaseTool] = (),
        router: Router | None = None,
        cooldown: float = COOLDOWN_SECONDS,
        max_question_chars: int = 2000,
    ):
        self.model = model
        self.fallback = fallback
        self.name = name
        self.tools = {tool.name: tool for tool in tools}
        self.handles_calculations = bool(self.tools)
        self.router = router if self.tools else None  # without tools, Assistant.ask already ran the router
        self.cooldown = cooldown
        self.max_question_chars = max_question_chars
        self._answering_model = model.bind_tools(list(tools)) if tools else model
        self._down_until = 0.0
        self._lock = threading.Lock()

    # -- AnswerBackend ---------------------------------------------------------------------------
    def rewrite(self, question: str, history: list[Message]) -> str | None:
        """The follow-up as a standalone question for retrieval.

        Returns None (not the question) when the model is unavailable or replies with something unusable:
        `Assistant.ask` then applies its own heuristic (previous question + follow-up), which retrieves
        better for "and for secondaries?" than the bare follow-up would.
        """
        if not history or self._cooling_down():
            return None
        try:
            reply = self.model.invoke(rewrite_messages(question, history))
        except Exception as exc:  # any failure: the heuristic takes over
            self._note_failure(exc, "rewrite")
            return None
        lines = [line.strip() for line in visible_text(reply).splitlines() if line.strip()]
        text = re.sub(r"^(standalone question|question)\s*:\s*", "", lines[0], flags=re.I).strip(" \"'“”") if lines else ""
        if not text or len(text) > self.max_question_chars:
            return None
        return text

    def answer(self, question: str, hits: list[Document], history: list[Message]) -> Answer:
        """The model's answer from `hits`, citations checked; the fallback answer (+ notice) on any failure."""
        if self._cooling_down():
            return self._fallback(question, hits, history)
        try:
            text, calls = self._generate(question, hits, history)
        except Exception as exc:  # never raise: every failure has an answer
            self._note_failure(exc, "answer")
            return self._fallback(question, hits, history)
        guarded = guard_citations(text, hits)
        return Answer(answer=guarded.text, citations=guarded.citations, tool_calls=calls, grounded=guarded.grounded)

    # -- pieces ----------------------------------------------------------------------------------
    def _generate(self, question: str, hits: list[Document], history: list[Message]) -> tuple[str, list[ToolCall]]:
        messages = answer_messages(question, hits, history, tools=bool(self.tools))
        calls: list[ToolCall] = []
        for round_ in range(MAX_TOOL_ROUNDS + 1):
            reply = self._answering_model.invoke(messages)
            if isinstance(reply, AIMessage) and reply.invalid_tool_calls:
                bad = reply.invalid_tool_calls[0]
                raise GenerationError(f"malformed tool call {bad.get('name')!r}: {bad.get('error') or 'unparseable arguments'}")
            tool_calls = getattr(reply, "tool_calls", None) or []
            if not tool_calls:
                text = visible_text(reply)
                if not text:
                    raise GenerationError("empty answer")
                return text, calls
            if round_ == MAX_TOOL_ROUNDS:
                raise GenerationError(f"still calling tools after {MAX_TOOL_ROUNDS} rounds")
            messages.append(reply)
            for call in tool_calls:
                record = self._run_tool(call)
                calls.append(record)
                messages.append(ToolMessage(json.dumps(record.result, default=str), tool_call_id=call.get("id") or "", name=record.name))
        raise AssertionError("unreachable")

    def _run_tool(self, call: dict) -> ToolCall:
        name, args = call.get("name"), call.get("args")
        tool = self.tools.get(name)
        if tool is None:
            raise GenerationError(f"malformed tool call: unknown tool {name!r}")
        if not isinstance(args, dict):
            raise GenerationError(f"malformed tool call: arguments of {name!r} are not an object")
        try:
            result = as_result(tool.invoke(args))
        except (CalculationError, ValidationError) as exc:
            # Bad or missing inputs go back to the model, which can correct them or ask the user.
            result = {"error": str(exc)}
        return ToolCall(name=name, args=args, result=result)

    def _fallback(self, question: str, hits: list[Document], history: list[Message]) -> Answer:
        answer = None
        if self.router:
            try:
                answer = self.router(question, history)
            except Exception:  # the router is deterministic; if it breaks, still answer extractively
                log.exception("calculator router failed during fallback")
        answer = answer or self.fallback(question, hits) or self._nothing_to_quote(hits)
        return answer.model_copy(update={"answer": f"{answer.answer}\n\n{NOTICE}"})

    @staticmethod
    def _nothing_to_quote(hits: list[Document]) -> Answer:
        """The extractive answerer found no sentence that answers: say so and list the closest sources."""
        book = CitationBook()
        for doc in hits[:FALLBACK_SOURCES]:
            book.cite(doc)
        return Answer(answer=NOTHING_TO_QUOTE, citations=book.citations, grounded=False)

    def _cooling_down(self) -> bool:
        with self._lock:
            return time.monotonic() < self._down_until

    def _note_failure(self, exc: BaseException, stage: str) -> None:
        log.warning("generative backend (%s) failed during %s: %s; answering without it", self.name, stage, failure_reason(exc))
        if is_unreachable(exc):
            with self._lock:
                self._down_until = time.monotonic() + self.cooldown


def ping(model: BaseChatModel) -> str:
    """Ask the model for one word (raises whatever the endpoint raises); for `partnership doctor`."""
    return visible_text(model.invoke("Reply with the single word OK.")) or "(empty reply)"
