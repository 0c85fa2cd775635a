"""The sparse BM25 ranker: exact-word ranking, unknown words, and the top-n selection."""
import numpy as np

from assistant.retrieval import SparseBM25, top_scores

CORPUS = [
    "ealing partnership subscription per pupil".split(),
    "hillingdon partnership membership fee per school".split(),
    "nurseries are in the partnership nurseries pay nothing".split(),
    "the partnership board meets termly".split(),
]
IDS = ["ealing", "hillingdon", "nurseries", "board"]


def test_a_rare_word_decides_and_repeats_count():
    bm25 = SparseBM25(CORPUS)
    scores = bm25.get_scores(["nurseries", "partnership"])
    assert top_scores(IDS, scores, 4)[0][0] == "nurseries"
    # "partnership" is in every chunk: it weighs far less than a word in one chunk
    assert bm25.get_scores(["partnership"]).max() < bm25.get_scores(["termly"]).max()
    assert bm25.get_scores(["fee", "fee"]).max() > bm25.get_scores(["fee"]).max()


def test_unknown_or_no_words_score_nothing():
    bm25 = SparseBM25(CORPUS)
    for words in ([], ["zebra"], ["zebra", "quokka"]):
        scores = bm25.get_scores(words)
        assert scores.shape == (4,) and not scores.any()
        assert top_scores(IDS, scores, 3) == []


def test_top_scores_is_the_sorted_positive_head():
    rng = np.random.default_rng(0)
    scores = rng.random(1000).astype(np.float32)
    scores[rng.choice(1000, 300, replace=False)] = 0.0
    ids = [str(i) for i in range(1000)]
    expected = sorted(((ids[i], float(s)) for i, s in enumerate(scores) if s > 0), key=lambda p: -p[1])
    assert top_scores(ids, scores, 50) == expected[:50]
    assert top_scores(ids, scores, 5000) == expected  # more asked than there are chunks
