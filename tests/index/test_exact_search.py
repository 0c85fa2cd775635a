"""Small indexes search their vectors in memory: the same lists as Chroma's HNSW, without its round trip."""
from __future__ import annotations

import numpy as np
import pytest
from chromadb.errors import ChromaError

import assistant.retrieval as retrieval
from assistant.exact_search import ExactVectors
from assistant.factory import build_assistant
from assistant.store import ChunkStore


def test_in_memory_search_returns_what_chroma_returns(assistant, embeddings):
    lexical = assistant.retriever.lexical()
    assert lexical.chunk_vectors is not None and lexical.part_vectors is not None  # 5 documents: in memory
    assert len(lexical.chunk_vectors.chunks) == len(lexical.ids)
    store = assistant.store
    for question in ("Are nursery schools included in ELP?", "What does SAfE charge per pupil?", "zebra crossing"):
        vector = embeddings.embed_query(question)
        for exact, hnsw, k in ((lexical.chunk_vectors, store.query, 20), (lexical.part_vectors, store.query_parts, 5000)):
            mine, chroma = exact.search(vector, k), hnsw(vector, k)
            assert np.allclose([s for _, s in mine], [s for _, s in chroma], atol=1e-4)
            # A chunk comes back once per part, and parts can tie: compare each chunk's best score.
            best_mine, best_chroma = dict(retrieval.best_per_chunk(mine)), dict(retrieval.best_per_chunk(chroma))
            assert best_mine.keys() == best_chroma.keys()
            assert all(abs(best_mine[c] - best_chroma[c]) < 1e-4 for c in best_mine)


def test_a_question_makes_no_chroma_search_on_a_small_index(assistant, monkeypatch):
    def no_search(*args, **kwargs):
        raise AssertionError("searched Chroma")

    assistant.retriever.lexical()
    monkeypatch.setattr(assistant.store, "query", no_search)
    monkeypatch.setattr(assistant.store, "query_parts", no_search)
    assert assistant.ask("Is membership of the Ealing Learning Partnership all or nothing?").grounded


def test_a_larger_index_searches_chroma_and_ranks_the_same(indexed_settings, embeddings, assistant, monkeypatch):
    question = "Can we choose which cluster we join?"
    small = [d.id for d in assistant.retrieve(question)]
    monkeypatch.setattr(retrieval, "EXACT_SEARCH_UP_TO", 10)  # the corpus has more chunks than this
    large = build_assistant(indexed_settings, embeddings=embeddings)
    lexical = large.retriever.lexical()
    assert lexical.chunk_vectors is None and lexical.part_vectors is None
    assert [d.id for d in large.retrieve(question)] == small


@pytest.mark.parametrize("busy_read", ["chunk_vectors", "all_part_vectors"])
def test_vectors_being_written_stay_in_chroma_for_that_snapshot(indexed_settings, embeddings, assistant, monkeypatch, busy_read):
    def busy(self, *args):
        raise ChromaError("Error finding id")  # what Chroma raises while another process writes the segment

    monkeypatch.setattr(ChunkStore, busy_read, busy)
    fresh = build_assistant(indexed_settings, embeddings=embeddings)
    lexical = fresh.retriever.lexical()
    assert (lexical.chunk_vectors is None) == (busy_read == "chunk_vectors")
    assert (lexical.part_vectors is None) == (busy_read == "all_part_vectors")
    assert [d.id for d in fresh.retrieve("Why is ELP only for one year?")] == \
        [d.id for d in assistant.retrieve("Why is ELP only for one year?")]


def test_exact_vectors_rank_by_cosine_and_handle_edges():
    exact = ExactVectors.of(["a", "b", "c"], [[1, 0], [0, 2], [1, 1]])  # rows need not be unit length
    assert [cid for cid, _ in exact.search([1, 0.1], 3)] == ["a", "c", "b"]
    assert exact.search([0, 1], 1) == [("b", pytest.approx(1.0))]
    assert exact.search([1, 0], 0) == [] and ExactVectors.of([], []).search([1, 0], 5) == []
