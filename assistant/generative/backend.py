"""`GenerativeBackend`: a LangChain chat model as the answer backend of `Assistant.ask`.

It only ever sees questions that passed routing (calculations the router recognises never reach it) and the
evidence check. It rewrites follow-ups for retrieval, answers from fenced, numbered context, lets the model
call the funding calculator as a native tool for requests the router could not parse, then checks the
citations and the figures. Whatever goes wrong it raises `BackendFailure`, and the factory's composition
(`WithFallback`) answers the same turn extractively, with a notice.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing

import httpx
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ValidationError

from assistant.backends import BackendFailure, Turn
from assistant.errors import CalculationError
from assistant.generative.citations import guard_citations
from assistant.generative.figures import unsupported_figures
from assistant.generative.prompt import answer_messages, rewrite_messages
from assistant.models import Answer, Message, ToolCall

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 3
NOTICE = "(The generative model was unavailable, so this answer is quoted directly from the documents.)"
FIGURES_NOTICE = ("(The generative model's answer stated a figure that neither the funding calculator nor a cited "
                  "document gives, so this answer {source}.)")
THINKING = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)  # reasoning models (qwen3, r1) via Ollama

CalculatorAnswer = Callable[[dict], Answer]  # the calculator's Answer for a tool call's arguments


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


class VisibleText:
    """Streamed text as the user should see it: no <think>…</think> reasoning, no leading blank space.
    `feed` takes the next piece of the reply and returns what can be shown of it now."""

    OPEN = "<think>"

    def __init__(self):
        self.raw = ""
        self.sent = ""

    def feed(self, piece: str) -> str:
        self.raw += piece
        text = THINKING.sub("", self.raw)
        lowered = text.lower()
        if self.OPEN in lowered:  # reasoning not yet closed: hold everything from it on
            text = text[: lowered.index(self.OPEN)]
        else:  # hold a tail that may be the start of "<think>"
            for size in range(len(self.OPEN) - 1, 0, -1):
                if lowered.endswith(self.OPEN[:size]):
                    text = text[:-size]
                    break
        text = text.lstrip()
        if not text.startswith(self.sent):
            return ""
        delta, self.sent = text[len(self.sent):], text
        return delta


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
    """Answers with a chat model; implements `assistant.backends.AnswerBackend` (raises BackendFailure).

    Args:
        model: any LangChain chat model.
        name: shown by `partnership doctor` and in logs (e.g. "model llama3.1 at http://…/v1").
        tools: tools bound natively (the funding calculator); empty when the model has no tool calling.
        calculator_answer: the calculator's own Answer for the arguments of a funding_calculator call: what
            replaces a model answer whose figures the calculator result does not give.
        cooldown: seconds to skip the model after it timed out or refused the connection, so every request
            does not wait for it again (`Settings.llm_cooldown_seconds`).
    """

    def __init__(
        self,
        model: BaseChatModel,
        *,
        name: str = "generative",
        tools: Sequence[BaseTool] = (),
        calculator_answer: CalculatorAnswer | None = None,
        cooldown: float,
        max_question_chars: int = 2000,
    ):
        self.model = model
        self.name = name
        self.tools = {tool.name: tool for tool in tools}
        self.calculator_answer = calculator_answer
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

    def answer(self, turn: Turn) -> Answer:
        """The model's answer from `turn.hits`, citations and figures checked. Raises BackendFailure."""
        for item in self._answer(turn, streaming=False):
            if isinstance(item, Answer):
                return item
        raise AssertionError("unreachable")

    def stream(self, turn: Turn) -> Iterator[str | Answer]:
        """`answer`, with the model's tokens as text deltas first (LangChain `stream`); the final Answer is
        checked on the finished text. Closing this iterator closes the model's stream (stops generating)."""
        return self._answer(turn, streaming=True)

    # -- pieces ----------------------------------------------------------------------------------
    def _answer(self, turn: Turn, *, streaming: bool) -> Iterator[str | Answer]:
        if self._cooling_down():
            raise BackendFailure("cooling down after the endpoint failed", NOTICE)
        try:
            text, calls = yield from self._generate(turn.question, turn.hits, turn.history, streaming)
        except Exception as exc:  # every failure is the fallback's to answer
            self._note_failure(exc, "answer")
            raise BackendFailure(failure_reason(exc), NOTICE) from exc
        guarded = guard_citations(text, turn.hits)
        answer = Answer(answer=guarded.text, citations=guarded.citations, tool_calls=calls, grounded=guarded.grounded)
        self._check_figures(answer, guarded.cited, calls)
        yield answer

    def _check_figures(self, answer: Answer, cited: Sequence[Document], calls: list[ToolCall]) -> None:
        """Every sum of money in the answer must be in a calculator result of this turn or a cited passage."""
        results = [json.dumps(c.result, default=str, ensure_ascii=False) for c in calls]
        unsupported = unsupported_figures(answer.answer, [*results, *(d.page_content for d in cited)])
        if not unsupported:
            return
        computed = [c for c in calls if c.name == "funding_calculator" and "error" not in c.result]
        replacement = self.calculator_answer(computed[-1].args) if computed and self.calculator_answer else None
        source = "comes from the funding calculator" if replacement else "is quoted directly from the documents"
        reason = f"unsupported figure(s) {', '.join(unsupported)}"
        log.warning("generative backend (%s) answer replaced: %s", self.name, reason)
        raise BackendFailure(reason, FIGURES_NOTICE.format(source=source), replacement)

    def _generate(self, question: str, hits: list[Document], history: list[Message], streaming: bool):
        """Yields text deltas when `streaming`; returns (final text, tool calls)."""
        messages = answer_messages(question, hits, history, tools=bool(self.tools))
        calls: list[ToolCall] = []
        for round_ in range(MAX_TOOL_ROUNDS + 1):
            if streaming:
                reply = yield from self._stream_reply(messages)
            else:
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

    def _stream_reply(self, messages: list[BaseMessage]):
        """Yields the visible text of the model's reply as it arrives; returns the whole reply (its chunks
        added up, tool calls parsed). The model's stream is closed however this ends."""
        reply = None
        visible = VisibleText()
        with closing(self._answering_model.stream(messages)) as chunks:
            for chunk in chunks:
                reply = chunk if reply is None else reply + chunk
                delta = visible.feed(chunk.text)
                if delta:
                    yield delta
        if reply is None:
            raise GenerationError("empty answer")
        if not reply.response_metadata.get("finish_reason"):
            # The connection ended without the model saying it had finished: a cut-off answer, not a short one.
            raise GenerationError("the stream broke off before the model finished")
        return reply

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
