"""Batched query embeddings with the real model: concurrent questions get the vectors (and the answers)
they get alone. A batch pads its texts to the longest, so vectors agree to float rounding (~1e-7), not
bit for bit; a lone question is a batch of one and is bit-identical to embed_query."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from assistant.retrieval import QueryEmbedder

QUESTIONS = [
    "Is membership of the Ealing Learning Partnership all or nothing?",
    "What is SAfE?",
    "Who sits on the ELP board?",
    "How is the ELP subscription calculated?",
    "What does the Hillingdon Learning Partnership offer schools?",
    "Can special schools join the partnership?",
]


def test_concurrent_questions_share_one_model_call_and_get_their_own_vectors(embeddings):
    alone = np.array([embeddings.embed_query(q) for q in QUESTIONS])
    embedder = QueryEmbedder(embeddings)
    embedder.batcher.window_s = 30  # wait for every announced question: one batch, deterministically
    embedder.batcher.batches = []
    announced = threading.Barrier(len(QUESTIONS))

    def ask(question: str):
        with embedder.expecting():
            announced.wait(30)
            return embedder.embed(question)

    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        together = np.array(list(pool.map(ask, QUESTIONS)))
    assert [sorted(b) for b in embedder.batcher.batches] == [sorted(QUESTIONS)]
    np.testing.assert_allclose(together, alone, atol=1e-6, rtol=0)


def test_a_lone_question_is_bit_identical_to_embed_query(embeddings):
    embedder = QueryEmbedder(embeddings)
    assert list(embedder.embed(QUESTIONS[0])) == embeddings.embed_query(QUESTIONS[0])


def test_concurrent_asks_give_the_answers_sequential_asks_give(assistant):
    assistant.retriever.query_embedder.cache_clear()
    sequential = [assistant.ask(q).model_dump() for q in QUESTIONS]
    assistant.retriever.query_embedder.cache_clear()
    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        concurrent = [a.model_dump() for a in pool.map(assistant.ask, QUESTIONS)]
    assert concurrent == sequential
