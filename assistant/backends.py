"""Answer backends: who writes the answer once a question has passed routing, retrieval and the evidence
checks. The extractive answerer is one; a chat model is another; `WithFallback` composes them so a failed
model is answered for by the extractive backend, on exactly the same turn."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Protocol

from langchain_core.documents import Document

from assistant.answering import ExtractiveAnswerer, decline
from assistant.models import Answer, Message

log = logging.getLogger(__name__)

NOTHING_ANSWERS = "the passages I found don't address what you asked."


@dataclass(frozen=True)
class Turn:
    """One question to answer: as asked, as a standalone question (follow-ups resolved), the conversation,
    the retrieved chunks best first, and the names every quoted passage must mention."""

    question: str
    standalone: str
    history: list[Message] = field(default_factory=list)
    hits: list[Document] = field(default_factory=list)
    required: list[frozenset[str]] = field(default_factory=list)


class AnswerBackend(Protocol):
    name: str

    def rewrite(self, question: str, history: list[Message]) -> str | None:
        """The follow-up `question` as a standalone question, or None to let `Assistant.ask` decide."""

    def answer(self, turn: Turn) -> Answer | None:
        """The answer from `turn.hits`; None when nothing in them answers (the caller declines). Raises
        BackendFailure when this backend cannot answer the turn at all."""


def stream_answer(backend: AnswerBackend, turn: Turn) -> Iterator[str | Answer]:
    """Text deltas, then the final Answer. A backend that can stream has `stream(turn)` (same contract);
    any other answers at once: its whole text as one delta, then the Answer."""
    stream = getattr(backend, "stream", None)
    if stream is not None:
        yield from stream(turn)  # `yield from` passes close() on: a consumer that stops, stops the model
        return
    answer = backend.answer(turn) or decline(turn.hits, NOTHING_ANSWERS)
    yield answer.answer
    yield answer


class BackendFailure(Exception):
    """The backend could not answer this turn (endpoint down, unusable reply, a figure nothing supports).
    `replacement`, when set, is the answer to give instead; `notice` says to the user what happened."""

    def __init__(self, reason: str, notice: str, replacement: Answer | None = None):
        super().__init__(reason)
        self.notice = notice
        self.replacement = replacement


class ExtractiveBackend:
    """Quotes the sentences that answer (no language model)."""

    name = "extractive"

    def __init__(self, answerer: ExtractiveAnswerer):
        self.answerer = answerer

    def rewrite(self, question: str, history: list[Message]) -> str | None:
        return None

    def answer(self, turn: Turn) -> Answer | None:
        return self.answerer.answer(turn.standalone, turn.hits, turn.required)


class WithFallback:
    """`primary` answers; when it fails, `fallback` answers the same turn and the user is told why."""

    def __init__(self, primary: AnswerBackend, fallback: AnswerBackend):
        self.primary = primary
        self.fallback = fallback
        self.name = primary.name

    def rewrite(self, question: str, history: list[Message]) -> str | None:
        return self.primary.rewrite(question, history)

    def answer(self, turn: Turn) -> Answer:
        try:
            answer = self.primary.answer(turn)
        except BackendFailure as failure:
            return self.instead(turn, failure)
        return answer or decline(turn.hits, NOTHING_ANSWERS)

    def stream(self, turn: Turn) -> Iterator[str | Answer]:
        """The primary's deltas; when it fails part way, the fallback's Answer is the final one (the deltas
        already sent are replaced by it, as clients replace streamed text with the final Answer)."""
        final = None
        try:
            with closing(stream_answer(self.primary, turn)) as items:
                for item in items:
                    if isinstance(item, Answer):
                        final = item
                    else:
                        yield item
        except BackendFailure as failure:
            yield self.instead(turn, failure)
            return
        yield final or decline(turn.hits, NOTHING_ANSWERS)

    def instead(self, turn: Turn, failure: BackendFailure) -> Answer:
        log.warning("%s could not answer (%s); answering with %s", self.primary.name, failure,
                    "the calculator" if failure.replacement else self.fallback.name)
        answer = failure.replacement or self.fallback.answer(turn) or decline(turn.hits, NOTHING_ANSWERS)
        return answer.model_copy(update={"answer": f"{answer.answer}\n\n{failure.notice}"})
