"""QueryBatcher: concurrent questions share one model call, and nothing about a caller's answer changes.

The encoder here is a deterministic stand-in that records every call, so each test can assert on which
texts went into which model call (no timing assertions). A real-model check is in
tests/index/test_query_batching_model.py.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time

import pytest

from assistant.batching import QueryBatcher, batch_query_function
from tests.support.paths import REPO

WAIT = 30  # generous: a thread still alive after this is hung, not slow


def vector_of(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [b / 255 for b in digest[:8]]


class RecordingEncoder:
    """texts -> vectors, recording each call; `gate` (when set) holds a call until released."""

    def __init__(self, fail_on: str | None = None):
        self.calls: list[list[str]] = []
        self.fail_on = fail_on
        self.gate: threading.Event | None = None
        self.entered = threading.Event()

    def __call__(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(WAIT)
        if self.fail_on in texts:
            raise ValueError(f"cannot embed {self.fail_on!r}")
        return [vector_of(t) for t in texts]


def run_threads(targets) -> list[threading.Thread]:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(t.is_alive() for t in threads), "a caller is still waiting: the batcher hung"
    return threads


def wait_for(condition) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.001)


def test_concurrent_callers_get_the_vectors_they_get_alone_from_one_model_call():
    texts = [f"question {i}" for i in range(8)]
    alone = {t: QueryBatcher(RecordingEncoder()).embed(t) for t in texts}
    encoder = RecordingEncoder()
    batcher = QueryBatcher(encoder, window_s=WAIT)  # the batch waits for every announced question
    everyone_announced = threading.Barrier(len(texts))
    got: dict[str, list[float]] = {}

    def ask(text: str):
        def run():
            with batcher.expecting():
                everyone_announced.wait(WAIT)
                got[text] = batcher.embed(text)
        return run

    run_threads([ask(t) for t in texts])
    assert got == alone
    assert len(encoder.calls) == 1 and sorted(encoder.calls[0]) == sorted(texts)


def test_a_lone_caller_is_a_batch_of_one_and_does_not_wait_for_the_window():
    encoder = RecordingEncoder()
    batcher = QueryBatcher(encoder, window_s=3600)  # waiting for the window would hang the test
    got = []

    def ask():
        with batcher.expecting():
            got.append(batcher.embed("only question"))

    run_threads([ask, lambda: got.append(batcher.embed("no announcement"))])
    assert sorted(map(tuple, encoder.calls)) == [("no announcement",), ("only question",)]
    assert sorted(got) == sorted([vector_of("only question"), vector_of("no announcement")])


def test_an_announced_question_that_never_embeds_delays_a_batch_by_the_window_at_most():
    encoder = RecordingEncoder()
    batcher = QueryBatcher(encoder, window_s=0.05)
    release = threading.Event()

    def calculation_question():  # announced, answered without a vector (the calculator)
        with batcher.expecting():
            release.wait(WAIT)

    idle = threading.Thread(target=calculation_question, daemon=True)
    idle.start()
    wait_for(lambda: batcher._expected == 1)
    run_threads([lambda: batcher.embed("document question")])
    release.set()
    idle.join(WAIT)
    assert encoder.calls == [["document question"]]
    assert batcher._expected == 0


def test_callers_arriving_during_a_model_call_form_the_next_batch():
    encoder = RecordingEncoder()
    encoder.gate = threading.Event()
    batcher = QueryBatcher(encoder, window_s=0)
    first = threading.Thread(target=lambda: batcher.embed("first"), daemon=True)
    first.start()
    assert encoder.entered.wait(WAIT)  # the model is busy with "first"
    later = [threading.Thread(target=lambda t=t: batcher.embed(t), daemon=True) for t in ("a", "b", "a")]
    for thread in later:
        thread.start()
    wait_for(lambda: len(batcher._pending) == 3)
    encoder.gate.set()
    for thread in [first, *later]:
        thread.join(WAIT)
    assert not any(t.is_alive() for t in [first, *later])
    assert encoder.calls == [["first"], ["a", "b"]]  # one model call for the queue; "a" embedded once


def test_a_batch_larger_than_max_batch_is_split_and_every_caller_answered():
    encoder = RecordingEncoder()
    encoder.gate = threading.Event()
    batcher = QueryBatcher(encoder, window_s=0, max_batch=2)
    got: dict[str, list[float]] = {}
    texts = ["q0", "q1", "q2", "q3", "q4"]
    threads = [threading.Thread(target=lambda: got.setdefault("first", batcher.embed("first")), daemon=True)]
    threads[0].start()
    assert encoder.entered.wait(WAIT)
    for t in texts:
        threads.append(threading.Thread(target=lambda t=t: got.setdefault(t, batcher.embed(t)), daemon=True))
        threads[-1].start()
    wait_for(lambda: len(batcher._pending) == len(texts))
    encoder.gate.set()
    for thread in threads:
        thread.join(WAIT)
    assert not any(t.is_alive() for t in threads)
    assert [len(c) for c in encoder.calls] == [1, 2, 2, 1]
    assert got == {t: vector_of(t) for t in ["first", *texts]}


def test_a_failure_inside_a_batch_reaches_every_caller_of_that_batch_and_the_next_batch_works():
    encoder = RecordingEncoder(fail_on="poison")
    batcher = QueryBatcher(encoder, window_s=WAIT)
    texts = ["poison", "fine 1", "fine 2", "fine 3"]
    everyone_announced = threading.Barrier(len(texts))
    errors: dict[str, BaseException] = {}

    def ask(text: str):
        def run():
            with batcher.expecting():
                everyone_announced.wait(WAIT)
                try:
                    batcher.embed(text)
                except ValueError as exc:
                    errors[text] = exc
        return run

    run_threads([ask(t) for t in texts])
    assert len(encoder.calls) == 1
    assert set(errors) == set(texts) and all("poison" in str(e) for e in errors.values())
    assert batcher.embed("after") == vector_of("after")  # the batcher is not left leaderless


def test_an_encoder_returning_too_few_vectors_is_an_error_for_every_caller():
    batcher = QueryBatcher(lambda texts: [], window_s=0)
    with pytest.raises(RuntimeError, match="0 vectors for 1 texts"):
        batcher.embed("question")


def test_the_batch_function_keeps_embed_query_semantics():
    class QueryPrefixed:  # an Embeddings whose queries differ from documents
        def embed_documents(self, texts):
            return [[0.0] for _ in texts]

        def embed_query(self, text):
            return [1.0]

    class OwnBatch(QueryPrefixed):
        def embed_queries(self, texts):
            return [[2.0] for _ in texts]

    assert list(batch_query_function(QueryPrefixed())(["a", "b"])) == [[1.0], [1.0]]
    assert list(batch_query_function(OwnBatch())(["a"])) == [[2.0]]


def test_the_process_exits_while_a_batch_is_collecting():
    script = (
        "import threading\n"
        "from assistant.batching import QueryBatcher\n"
        "b = QueryBatcher(lambda texts: [[0.0] for _ in texts], window_s=3600)\n"
        "hold = threading.Event()\n"
        "def announced():\n"
        "    with b.expecting():\n"
        "        hold.wait()\n"
        "threading.Thread(target=announced, daemon=True).start()\n"
        "leader = threading.Thread(target=lambda: b.embed('q'), daemon=True)\n"
        "import time\n"
        "while b._expected != 1: time.sleep(0.001)\n"
        "leader.start()\n"
        "while not b._leading: time.sleep(0.001)\n"
        "print('collecting', flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "collecting"


def test_the_onnx_encoder_embeds_a_batch_of_questions_in_one_call():
    from assistant.batching import batch_query_function
    from assistant.embeddings import BUNDLED, OnnxEmbeddings

    calls = []

    class Encoder:
        def encode(self, texts):
            import numpy as np

            calls.append(list(texts))
            return np.ones((len(texts), 3))

    embeddings = OnnxEmbeddings(Encoder(), BUNDLED)
    batch = batch_query_function(embeddings)
    assert batch(["a?", "b?", "c?"]) == [[1.0, 1.0, 1.0]] * 3
    assert calls == [["a?", "b?", "c?"]]  # one model call, not one per question


def test_one_callers_texts_go_into_one_model_call():
    encoder = RecordingEncoder()
    batcher = QueryBatcher(encoder)
    assert batcher.embed_all(["a question", "a question without its names", "a question"]) == [
        vector_of("a question"), vector_of("a question without its names"), vector_of("a question")]
    assert encoder.calls == [["a question", "a question without its names"]]  # once each, one call


def test_the_question_cache_embeds_only_what_it_has_not_seen_and_stays_bounded():
    from assistant.retrieval import QueryEmbedder

    class Embeddings:  # a LangChain Embeddings stand-in: its calls are recorded
        calls: list[list[str]] = []

        def embed_documents(self, texts):
            self.calls.append(list(texts))
            return [vector_of(t) for t in texts]

        def embed_query(self, text):
            return self.embed_documents([text])[0]

    embeddings = Embeddings()
    embedder = QueryEmbedder(embeddings, cache_size=2)
    embedder.batcher.embed_batch = embeddings.embed_documents
    assert embedder.embed_all(["q1", "q1 bare"]) == [tuple(vector_of("q1")), tuple(vector_of("q1 bare"))]
    assert embedder.embed("q1") == tuple(vector_of("q1")) and embeddings.calls == [["q1", "q1 bare"]]
    embedder.embed("q2")  # the cache holds two: "q1 bare", the least recently used, goes
    assert embeddings.calls[-1] == ["q2"]
    embedder.embed_all(["q1", "q1 bare"])
    assert embeddings.calls[-1] == ["q1 bare"]
    embedder.cache_clear()
    embedder.embed("q1")
    assert embeddings.calls[-1] == ["q1"]
