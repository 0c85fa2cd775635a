"""How the rankers' lists are fused: each ranker's scores standardised, weighted and added."""
import numpy as np

from assistant.retrieval import fuse


def ranking(scores: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(scores.items(), key=lambda item: -item[1])


def best(fused: dict[str, float]) -> str:
    return max(fused, key=fused.get)


def test_a_chunk_that_stands_out_in_one_ranker_beats_the_top_of_a_flat_list():
    # "standout" is far above the rest of the dense list and not listed by BM25 at all; "flat_top" leads a
    # BM25 list where every candidate scores about the same, and is ordinary in dense.
    others = {f"c{i}": 0.40 + 0.001 * i for i in range(40)}
    dense = ranking({**others, "standout": 0.62, "flat_top": 0.44})
    bm25 = ranking({**{f"c{i}": 4.80 + 0.002 * i for i in range(40)}, "flat_top": 4.95})
    fused = fuse([(dense, 1.0, len(dense)), (bm25, 1.0, len(bm25))])
    assert best(fused) == "standout"


def test_one_exact_bm25_match_among_the_candidates_stands_out():
    # BM25 lists only chunks sharing a word with the question; the other judged candidates scored 0.
    rng = np.random.default_rng(0)
    dense = ranking({**{f"c{i}": float(v) for i, v in enumerate(rng.uniform(0.30, 0.45, 49))}, "match": 0.40, "top": 0.47})
    bm25 = [("match", 6.0)]
    fused = fuse([(dense, 1.0, len(dense)), (bm25, 1.0, 50)])
    assert best(fused) == "match"
    # Judged as a list of one, the match would not stand out at all.
    assert best(fuse([(dense, 1.0, len(dense)), (bm25, 1.0, 1)])) == "top"


def test_weights_scale_a_rankers_say_and_empty_rankings_are_ignored():
    dense = ranking({"a": 0.6, "b": 0.5, "c": 0.4})
    bm25 = ranking({"a": 1.0, "b": 3.0, "c": 2.0})
    assert best(fuse([(dense, 1.0, 3), (bm25, 0.5, 3)])) == "a"
    assert best(fuse([(dense, 1.0, 3), (bm25, 2.0, 3)])) == "b"
    assert fuse([([], 1.0, 0)]) == {}
    assert fuse([(ranking({"x": 0.5, "y": 0.5}), 1.0, 2)]) == {"x": 0.0, "y": 0.0}
