"""The generation marker (ChunkStore.bump_generation): every change of the commit records rewrites a small
file beside the embedded index, so a reader checks it on each question and reads the records only when it
changed — and still every FULL_CHECK_S, so a writer that died between its commit and the marker is seen."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from assistant import retrieval
from assistant.config import Settings
from assistant.retrieval import HybridRetriever, QueryEmbedder
from assistant.store import ChunkStore
from tests.index.test_lexical_cache import TEXTS, _commit
from tests.support.counting import count_calls


class NoModel:  # lexical() never embeds
    def embed_documents(self, texts):
        raise AssertionError("nothing is embedded here")

    embed_query = embed_documents


@pytest.fixture
def store(tmp_path) -> ChunkStore:
    store = ChunkStore(Settings(data_dir=tmp_path / "data"), embeddings=None)
    _commit(store, "a.txt", TEXTS["a.txt"])
    return store


@pytest.fixture
def reads(store, monkeypatch) -> dict[str, int]:
    return count_calls(monkeypatch, store, ("commit_count", "generation"))


def sources(retriever: HybridRetriever) -> set[str]:
    return {d.metadata["source"] for d in retriever.lexical().docs.values()}


def test_an_unchanged_marker_spares_the_record_reads_and_a_commit_is_seen_at_once(store, reads, monkeypatch):
    monkeypatch.setattr(retrieval, "FULL_CHECK_S", 600.0)  # no periodic full check within this test
    retriever = HybridRetriever(store=store, query_embedder=QueryEmbedder(NoModel()))
    assert sources(retriever) == {"a.txt"}
    assert reads == {"commit_count": 1, "generation": 1}
    assert sources(retriever) == {"a.txt"}
    assert reads == {"commit_count": 1, "generation": 2}  # the marker only
    _commit(store, "b.txt", TEXTS["b.txt"])  # an ingest (here or in another process) rewrites the marker
    assert sources(retriever) == {"a.txt", "b.txt"}
    assert reads["commit_count"] == 2
    store.uncommit(["a.txt"])
    assert sources(retriever) == {"b.txt"}


def test_a_commit_whose_marker_was_never_written_is_seen_at_the_next_full_check(store, monkeypatch):
    monkeypatch.setattr(retrieval, "FULL_CHECK_S", 0.3)
    retriever = HybridRetriever(store=store, query_embedder=QueryEmbedder(NoModel()))
    assert sources(retriever) == {"a.txt"}
    monkeypatch.setattr(store, "bump_generation", lambda: None)  # the writer died before the marker
    _commit(store, "b.txt", TEXTS["b.txt"])
    assert sources(retriever) == {"a.txt"}  # the marker says nothing changed: the snapshot stands…
    time.sleep(0.35)
    assert sources(retriever) == {"a.txt", "b.txt"}  # …until the records are read again


def test_without_a_marker_every_question_reads_the_records(store, reads):
    store.generation_path.unlink()  # an index from before the marker
    retriever = HybridRetriever(store=store, query_embedder=QueryEmbedder(NoModel()))
    for _ in range(3):
        assert sources(retriever) == {"a.txt"}
    assert reads["commit_count"] == 3


def test_a_chroma_server_has_no_marker_and_an_unwritable_one_is_only_logged(store, caplog, monkeypatch):
    server = SimpleNamespace(settings=Settings(chroma_host="chroma.example", chroma_port=8000))
    assert ChunkStore.generation_path.fget(server) is None  # its writers may be on other machines
    before = store.generation()
    monkeypatch.setattr("assistant.store.os.replace", lambda *a: (_ for _ in ()).throw(PermissionError("read-only")))
    store.bump_generation()
    assert store.generation() == before and "generation marker" in caplog.text
