"""The citation guard: invented markers go, real ones are renumbered 1..m, only cited chunks are listed."""
from __future__ import annotations

import logging

from langchain_core.documents import Document

from assistant.generative.citations import guard_citations


def hits(n: int) -> list[Document]:
    return [
        Document(page_content=f"Chunk {i} text.", metadata={"source": f"doc{i}.txt", "title": f"Doc {i}"}, id=f"id{i}")
        for i in range(1, n + 1)
    ]


def test_cited_chunks_are_renumbered_in_order_of_first_use():
    docs = hits(5)
    guarded = guard_citations("Fees rise [4]. Members vote [2]. Fees again [4].", docs)
    assert guarded.text == "Fees rise [1]. Members vote [2]. Fees again [1]."
    assert [(c.n, c.source) for c in guarded.citations] == [(1, "doc4.txt"), (2, "doc2.txt")]
    assert guarded.grounded and guarded.removed == []


def test_invented_marker_is_removed_and_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="assistant.generative.citations"):
        guarded = guard_citations("Schools pay £4k [1]. The rate doubles in 2030 [9].", hits(6))
    assert guarded.text == "Schools pay £4k [1]. The rate doubles in 2030."
    assert [c.source for c in guarded.citations] == ["doc1.txt"]
    assert guarded.removed == [9]
    assert "removed 1 invented citation marker(s): [9]" in caplog.text


def test_grouped_markers_keep_valid_numbers_only():
    guarded = guard_citations("Both say so [3, 9; 1]. Zero is not a passage [0].", hits(3))
    assert guarded.text == "Both say so [1][2]. Zero is not a passage."
    assert [c.source for c in guarded.citations] == ["doc3.txt", "doc1.txt"]
    assert sorted(guarded.removed) == [0, 9]


def test_duplicate_chunks_share_one_number():
    docs = hits(2) + [hits(1)[0]]  # the same chunk retrieved twice
    guarded = guard_citations("A [1]. B [3]. C [2].", docs)
    assert guarded.text == "A [1]. B [1]. C [2]."
    assert len(guarded.citations) == 2


def test_answer_without_citations_lists_top_hits_and_is_not_grounded():
    guarded = guard_citations("The documents do not say what the 2030 fee is.", hits(5))
    assert guarded.text == "The documents do not say what the 2030 fee is."
    assert [c.n for c in guarded.citations] == [1, 2, 3]
    assert not guarded.grounded


def test_only_invented_citations_count_as_none():
    guarded = guard_citations("Made up [7].", hits(2))
    assert guarded.text == "Made up." and not guarded.grounded and guarded.removed == [7]
    assert [c.source for c in guarded.citations] == ["doc1.txt", "doc2.txt"]
