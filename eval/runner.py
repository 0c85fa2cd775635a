"""Runs an answerer over the dataset and collects per-item results.

An answerer is anything with the `Assistant` shape: `ask(question) -> Answer` (the same entry point every
adapter uses) and `retrieve(question) -> list[Document]` (chunks best first, `metadata["source"]`), which
is where the retrieval metrics come from. Our assistant and the naive baseline are run the same way.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.documents import Document

from assistant.models import Answer
from eval.metrics import CitedSource, ItemResult, aggregate, score_item
from eval.schema import EvalItem


class Answerer(Protocol):
    def ask(self, question: str, history: Any = None, filters: Any = None) -> Answer: ...

    def retrieve(self, question: str, filters: Any = None) -> list[Document]: ...


class Judge(Protocol):
    def score(self, answer_text: str, snippets: Sequence[str]) -> float | None: ...


@dataclass
class SystemRun:
    """All item results of one answerer, with the aggregated figures."""

    name: str
    results: list[ItemResult]
    summary: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "overall": self.summary["overall"],
            "by_kind": self.summary["by_kind"],
            "by_variant": self.summary["by_variant"],
            "items": [r.model_dump() | {"passed": r.passed} for r in self.results],
        }


def _describe(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"


def run_item(answerer: Answerer, item: EvalItem, judge: Judge | None = None) -> ItemResult:
    """Ask one question, time it, retrieve for the retrieval metrics and score. An exception from the
    answerer becomes a failed item (the evaluation reports crashes rather than stopping at the first).
    With a `judge`, grounded answers also get a faithfulness score against their cited snippets."""
    error = None
    answer: Answer | None = None
    started = time.perf_counter()
    try:
        answer = answerer.ask(item.question)
    except Exception as exc:  # any crash is a finding about the answerer, recorded per item
        error = _describe(exc)
    latency = time.perf_counter() - started
    try:
        retrieved = [d.metadata.get("source", "") for d in answerer.retrieve(item.question)]
    except Exception as exc:
        retrieved = []
        error = error or _describe(exc)
    citations = [CitedSource(n=c.n, source=c.source) for c in answer.citations] if answer else []
    result = score_item(
        item,
        answer_text=answer.answer if answer else "",
        grounded=answer.grounded if answer else None,
        citations=citations,
        retrieved=retrieved,
        latency_s=latency if answer else None,
        error=error,
    )
    if judge and answer and answer.grounded and answer.citations:
        result.scores["faithfulness"] = judge.score(answer.answer, [c.snippet for c in answer.citations])
    return result


def evaluate(
    answerer: Answerer,
    items: Sequence[EvalItem],
    name: str = "assistant",
    on_item: Callable[[ItemResult], None] | None = None,
    judge: Judge | None = None,
) -> SystemRun:
    """Run every item through `answerer`; `on_item` is called after each (progress display); `judge`
    (optional) scores faithfulness."""
    results = []
    for item in items:
        result = run_item(answerer, item, judge)
        results.append(result)
        if on_item:
            on_item(result)
    return SystemRun(name=name, results=results, summary=aggregate(results))


def build_answerer(settings):
    """Our assistant, built exactly as every adapter builds it."""
    from assistant.factory import build_assistant

    return build_assistant(settings)


def build_baseline(settings):
    """The naive baseline over `settings.corpus_dir`, on the same (process-wide) embeddings object."""
    from assistant.embeddings import load_embeddings
    from eval.baseline import NaiveRAG

    return NaiveRAG(settings.corpus_dir, load_embeddings(), settings.max_question_chars)
