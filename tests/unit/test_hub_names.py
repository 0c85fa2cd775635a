"""Names that appear in most chunks of one document ("ELP" in the ELP Q&A) say which document a question is
about, not which of its passages answers it: the parts ranker matches the question without them."""
from langchain_core.documents import Document

from assistant.retrieval import LexicalIndex, SparseBM25, derive


def lexical(chunks: list[tuple[str, str, str]]) -> LexicalIndex:
    """(id, source, text) → the LexicalIndex retrieval would build over them."""
    pairs = [(cid, Document(page_content=text, metadata={"source": source})) for cid, source, text in chunks]
    derived = derive(pairs)
    return LexicalIndex([cid for cid, _ in pairs], dict(pairs), SparseBM25.from_index(derived.bm25, derived.size),
                        derived.vocabulary, derived.names)


QA = [(f"qa{i}", "qa.txt", text) for i, text in enumerate([
    "What is ELP? ELP is a partnership of Ealing schools.",
    "How will ELP be funded? Schools and the council fund ELP jointly.",
    "Who runs ELP? The ELP board.",
    "Can nurseries join? Nurseries have not been consulted yet.",
    "How will you know it has worked? External quality assurance and impact evaluation.",
    "Is ELP all or nothing? ELP is a whole offer.",
])]
BOOKLET = [(f"b{i}", "booklet.txt", text) for i, text in enumerate([
    "Camden Learning is a schools-led company.",
    "Camden Learning charges a subscription.",
    "Camden Learning is owned by its schools.",
    "Lewisham Learning began in 2017.",
    "Attain is the partnership of Merton schools.",
    "Tower Hamlets schools formed THEP.",
    "Haringey schools formed HEP.",
])]
SHORT = [("s0", "short.txt", "Redbridge fees."), ("s1", "short.txt", "Redbridge board."), ("s2", "short.txt", "Redbridge aims.")]


def test_a_token_in_more_than_half_of_one_documents_chunks_is_a_hub():
    index = lexical(QA + BOOKLET + SHORT)
    assert index.is_hub_token("#elp") and index.is_hub_token("elp")  # 5 of the Q&A's 6 chunks
    assert not index.is_hub_token("camden")  # 3 of the booklet's 7: a profile's name, it picks the passages
    assert not index.is_hub_token("redbridg")  # every chunk, but of a document too short to have hubs
    assert not index.is_hub_token("nurseri") and not index.is_hub_token("zebra")


def test_hub_names_are_left_out_of_the_question_other_words_stay():
    index = lexical(QA + BOOKLET + SHORT)
    assert index.without_hub_names("How will we know ELP has worked?") == "How will we know has worked?"
    assert index.without_hub_names("Does Camden charge schools?") == "Does Camden charge schools?"
    # "elp" in lower case is a word, not a name; the first word is capitalised because it comes first
    assert index.without_hub_names("is elp all or nothing?") == "is elp all or nothing?"
    # nothing but names: the question as asked
    assert index.without_hub_names("ELP?") == "ELP?"


def test_an_empty_index_has_no_hubs():
    index = LexicalIndex([], {}, None, frozenset(), {})
    assert not index.is_hub_token("elp")
    assert index.without_hub_names("What is ELP?") == "What is ELP?"
