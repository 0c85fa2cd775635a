"""Micro-batching of query embeddings across concurrent callers.

Answers are CPU-bound and torch already spreads one model call over every core, so many HTTP requests
embedding their questions one by one only queue for the model. `QueryBatcher.embed(text)` instead
collects the questions of concurrent callers and embeds them in one model call, one call at a time:

- the first caller of a batch leads it: it waits until every question the assistant has announced
  (`expecting()`, held around a whole question) has asked for its vector, or `window_s` has passed,
  whichever comes first; a lone caller therefore never waits;
- while a model call runs, new callers queue and form the next batch (the queue is the collection);
- an exception inside a batch's model call reaches every caller of that batch;
- no thread of its own: nothing to stop at shutdown, nothing that can outlive the process.

The model call is whatever `batch_query_function(embeddings)` finds, so it works over any encoder that
sits underneath (the sentence-transformers one, or another LangChain `Embeddings`).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from langchain_core.embeddings import Embeddings

WINDOW_S = 0.004  # how long a batch's leader waits for announced callers that have not arrived yet
MAX_BATCH = 64  # questions per model call (short texts: a batch of 64 costs little more than one)

BatchFunction = Callable[[list[str]], Sequence[Sequence[float]]]


def batch_query_function(embeddings: Embeddings) -> BatchFunction:
    """How to embed several *queries* in one call with the same vectors `embed_query` gives one by one.

    An encoder may say so itself (`embed_queries(texts)`); sentence-transformers embeddings without query
    prompts or query-only settings embed queries exactly as documents; any other Embeddings object is
    called once per text (still one call at a time, only without the batching gain).
    """
    own = getattr(embeddings, "embed_queries", None)
    if callable(own):
        return own
    try:
        from langchain_huggingface import HuggingFaceEmbeddings
    except ImportError:  # not installed: no sentence-transformers model can be underneath
        HuggingFaceEmbeddings = ()  # type: ignore[assignment]
    if isinstance(embeddings, HuggingFaceEmbeddings) and not embeddings.query_encode_kwargs:
        return embeddings.embed_documents
    return lambda texts: [embeddings.embed_query(text) for text in texts]


@dataclass
class _Request:
    text: str
    done: threading.Event = field(default_factory=threading.Event)
    vector: list[float] | None = None
    error: BaseException | None = None


class QueryBatcher:
    """Embeds questions of concurrent callers in shared model calls (see the module docstring).

    Args:
        embed_batch: texts -> one vector per text (the model call).
        model_lock: held around every model call; share it with other users of the same model.
        window_s: the longest a batch waits for callers announced with `expecting()`.
        max_batch: the most texts per model call.
    """

    def __init__(self, embed_batch: BatchFunction, model_lock: threading.Lock | None = None,
                 window_s: float = WINDOW_S, max_batch: int = MAX_BATCH):
        self.embed_batch = embed_batch
        self.model_lock = model_lock or threading.Lock()
        self.window_s = window_s
        self.max_batch = max_batch
        self._changed = threading.Condition()
        self._pending: list[_Request] = []
        self._leading = False
        self._expected = 0  # callers inside `expecting()` that have not asked for a vector yet
        self._announced = threading.local()  # this thread's question is counted in _expected
        self.batches: list[list[str]] | None = None  # set to a list to record each model call's texts (tests)

    @contextmanager
    def expecting(self) -> Iterator[None]:
        """Announce a question in progress, so a batch's leader waits for its embedding (up to the window)
        instead of calling the model without it."""
        if getattr(self._announced, "on", False):  # nested: the outer question is already counted
            yield
            return
        with self._changed:
            self._expected += 1
            self._announced.on = True
        try:
            yield
        finally:
            with self._changed:
                if self._announced.on:  # it never embedded (a calculation, a cached vector)
                    self._expected -= 1
                    self._announced.on = False
                    self._changed.notify_all()

    def embed(self, text: str) -> list[float]:
        """The vector of `text`, computed in a batch with whatever concurrent callers asked meanwhile."""
        return self.embed_all([text])[0]

    def embed_all(self, texts: Sequence[str]) -> list[list[float]]:
        """The vectors of `texts` (one caller's, e.g. a question in two forms), in the same batch."""
        requests = [_Request(text) for text in texts]
        with self._changed:
            if getattr(self._announced, "on", False):  # arrived: the leader no longer waits for this one
                self._announced.on = False
                self._expected -= 1
            self._pending.extend(requests)
            lead = not self._leading
            self._leading = True
            self._changed.notify_all()
        if lead:
            self._lead()
        for request in requests:
            request.done.wait()
            if request.error is not None:
                raise request.error
        assert all(r.vector is not None for r in requests)
        return [r.vector for r in requests]

    def _lead(self) -> None:
        with self._changed:  # collect: every announced caller, or the window, whichever comes first
            deadline = time.monotonic() + self.window_s
            while self._expected > 0 and len(self._pending) < self.max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
        while True:
            with self.model_lock:  # one model call at a time; callers arriving meanwhile join the batch
                with self._changed:
                    batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
                    more = bool(self._pending)
                    if not more:
                        self._leading = False  # the next caller leads the next batch
                self._run(batch)
            if not more:
                return

    def _run(self, batch: list[_Request]) -> None:
        texts = list(dict.fromkeys(r.text for r in batch))  # the same question twice is embedded once
        try:
            if self.batches is not None:
                self.batches.append(texts)
            vectors = list(self.embed_batch(texts))
            if len(vectors) != len(texts):
                raise RuntimeError(f"the encoder returned {len(vectors)} vectors for {len(texts)} texts")
            by_text = {text: list(vector) for text, vector in zip(texts, vectors)}
            for request in batch:
                request.vector = by_text[request.text]
        except BaseException as exc:  # every caller of the batch gets it, none waits forever
            for request in batch:
                request.error = exc
        finally:
            for request in batch:
                request.done.set()
