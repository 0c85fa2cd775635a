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


def test_a_period_no_document_names_is_unknown():
    from assistant.evidence import Evidence
    from assistant.glossary import Glossary
    from assistant.retrieval import LexicalIndex

    lexical = LexicalIndex(ids=[], docs={}, bm25=None, vocabulary=frozenset(), names={},
                           periods=frozenset({(2018, 2019), (2018, 2020)}), years=frozenset({2017, 2018, 2019, 2020}))
    evidence = Evidence(lexical, Glossary(), 0.3)
    assert evidence.unknown_periods("What will ELP charge in 2019-20?") == ["2019-20"]
    assert evidence.unknown_periods("What are the 2018-19 rates?") == []
    assert evidence.unknown_periods("What happened in 2019?") == []  # inside a period the documents name
    assert evidence.unknown_periods("What is planned for 2024?") == ["2024"]
