"""Runs an answerer over the dataset and collects per-item results.

An answerer is anything with the `Assistant` shape: `ask(question, history=...) -> Answer` (the same entry
point every adapter uses) and `retrieve(question) -> list[Document]` (chunks best first,
`metadata["source"]`), which is where the retrieval metrics come from. Our assistant and the naive
baseline are run the same way.

Optional, used when present:
- `standalone_question(question, history) -> str`: for a follow-up (an item with `history`), the
  question retrieval is measured on (what the assistant retrieves for); else the question itself.
- `retrieval_trace(question, filters=None) -> dict[str, list[Document]]`: the ranking after each
  retrieval stage, in order, the last entry being the final ranking. For items with a `passage` it gives
  the passage's rank per stage (where a miss is lost); without it there is one stage, "final", from
  `retrieve`.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.documents import Document

from assistant.models import Answer
from eval.metrics import CitedSource, ItemResult, aggregate, passage_rank, score_item
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
            "by_split": self.summary.get("by_split", {}),
            "items": [r.model_dump() | {"passed": r.passed} for r in self.results],
        }


def _describe(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"


def retrieval_question(answerer: Answerer, item: EvalItem) -> str:
    """What retrieval is measured on: the standalone question for a follow-up when the answerer can say
    what that is (`standalone_question(question, history)`), else the question."""
    rewrite = getattr(answerer, "standalone_question", None)
    if item.history and callable(rewrite):
        return rewrite(item.question, list(item.history))
    return item.question


def retrieval_stages(answerer: Answerer, question: str) -> dict[str, list[Document]]:
    """Stage name -> ranked chunks, the last entry being the final ranking: the answerer's
    `retrieval_trace` when it has one, else {"final": retrieve(question)}."""
    trace = getattr(answerer, "retrieval_trace", None)
    if callable(trace):
        stages = dict(trace(question))
        if not stages:
            raise ValueError("retrieval_trace returned no stage")
        return stages
    return {"final": answerer.retrieve(question)}


def run_item(answerer: Answerer, item: EvalItem, judge: Judge | None = None) -> ItemResult:
    """Ask one question (with its history, for a follow-up), time it, retrieve for the retrieval metrics
    and score. An exception from the answerer becomes a failed item (the evaluation reports crashes
    rather than stopping at the first). Items with a passage are retrieved through `retrieval_stages`
    (the final stage gives the retrieved sources too), others through `retrieve`. With a `judge`,
    grounded answers also get a faithfulness score against their cited snippets."""
    error = None
    answer: Answer | None = None
    started = time.perf_counter()
    try:
        answer = answerer.ask(item.question, history=item.history or None)
    except Exception as exc:  # any crash is a finding about the answerer, recorded per item
        error = _describe(exc)
    latency = time.perf_counter() - started
    ranks: dict[str, int | None] = {}
    try:
        question = retrieval_question(answerer, item)
        if item.passage is not None:
            stages = retrieval_stages(answerer, question)
            ranks = {name: passage_rank(item.passage, (d.page_content for d in docs)) for name, docs in stages.items()}
            final = list(stages.values())[-1]
        else:
            final = answerer.retrieve(question)
        retrieved = [d.metadata.get("source", "") for d in final]
    except Exception as exc:
        retrieved, ranks = [], {}
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
        passage_ranks=ranks,
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

    return NaiveRAG(settings.corpus_dir, load_embeddings(encoder_dir=settings.encoders_path), settings.max_question_chars)
