"""A documented Q&A answer leads only when its question matches at least as well as what ranks above it."""
from langchain_core.documents import Document

from assistant.answering import closest_above


def hit(text: str, part: float, dense: float) -> Document:
    return Document(page_content=text, metadata={"part": part, "dense": dense})


def test_the_closest_passage_above_a_qa_row_is_its_bar():
    first, second, qa = hit("Schools are not compelled.", 0.84, 0.6), hit("Intro.", 0.5, 0.7), hit("Q: x? A: y", 0.7, 0.5)
    hits = [first, second, qa]
    assert closest_above(qa, hits) == 0.84  # the best of part and dense over every hit ranked above
    assert closest_above(second, hits) == 0.84
    assert closest_above(first, hits) == 0.0  # nothing ranks above the first hit
