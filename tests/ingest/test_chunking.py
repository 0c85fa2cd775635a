"""Chunking on the real corpus: Q&A pairs intact, tables whole with headers, booklet profiles tagged,
no HTML, no oversized or mid-sentence chunks, metadata exactly as the pipeline and Chroma expect."""
from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.errors import IngestError
from ingest.chunking import METADATA_KEYS, chunk_pages
from ingest.loaders import Page, load_pages
from ingest.metadata import DocMeta, doc_meta_for, load_corpus_metadata

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
QA_SHEET = "ealing-elp-qa-briefings-2017-11.txt"
LETTER = "hillingdon-hlp-invitation-to-join.txt"
PROSPECTUS = "ealing-elp-prospectus-2018-19.txt"
SLIDES = "hillingdon-partnership-review-slides-2021.txt"
BOOKLET = "aepa-learning-locally-london-partnerships.txt"
MAX_CHUNK = 1600


def _source_lines(name: str) -> list[str]:
    return (CORPUS / name).read_text(encoding="utf-8-sig").replace("\r\n", "\n").split("\n")


def _words(text: str, n: int) -> str:
    return " ".join(text.split()[:n])


def _squash(text: str) -> str:
    return " ".join(text.replace("**", "").split())


def _only(docs, predicate):
    found = [d for d in docs if predicate(d)]
    assert len(found) == 1, [d.page_content[:80] for d in found]
    return found[0]


# ---- every file ---------------------------------------------------------------------------------

def test_every_corpus_file_chunks(corpus_chunks):
    assert set(corpus_chunks) == {p.name for p in CORPUS.glob("*.txt")}
    assert all(corpus_chunks.values())


def test_metadata_keys_types_and_order(corpus_chunks):
    for name, docs in corpus_chunks.items():
        assert [d.metadata["chunk_index"] for d in docs] == list(range(len(docs)))
        for doc in docs:
            meta = doc.metadata
            assert set(meta) == set(METADATA_KEYS), name
            assert all(isinstance(v, (str, int, float, bool)) for v in meta.values()), meta
            assert meta["source"] == name
            assert meta["chunk_type"] in {"qa", "table", "section", "slide", "contents"}
            assert isinstance(meta["page"], int) and meta["page"] == -1  # text files have no pages
            assert (meta["question"] != "") == (meta["chunk_type"] == "qa")


def test_no_html_survives_anywhere(corpus_chunks):
    for docs in corpus_chunks.values():
        for doc in docs:
            text = doc.page_content + doc.metadata["section"]
            for fragment in ("<p", "<ul", "<li", "</", "style="):
                assert fragment not in text, (fragment, text[:120])
            assert not re.search(r"<[a-zA-Z/][^>]*>", text)
            assert "■" not in text


def test_no_empty_oversized_or_gappy_chunks(corpus_chunks):
    for docs in corpus_chunks.values():
        for doc in docs:
            assert doc.page_content.strip() == doc.page_content and doc.page_content
            assert len(doc.page_content) <= MAX_CHUNK, (len(doc.page_content), doc.page_content[:80])
            assert "\n\n\n" not in doc.page_content


def test_prose_chunks_end_on_a_sentence_or_line_boundary(corpus_chunks):
    """A piece may end with sentence punctuation, or exactly where a line of the source ends (headings,
    list items, table rows). A cut in the middle of a sentence satisfies neither."""
    for name, docs in corpus_chunks.items():
        line_ends = [_squash(line) for line in _source_lines(name) if line.strip()]
        for doc in docs:
            last = doc.page_content.splitlines()[-1].strip()
            if last.endswith((".", "?", "!", ":", "…", "”", '"')) or last.startswith(("- ", "| ")) or " | " in last:
                continue
            tail = _squash(last)[-40:]
            assert any(line.endswith(tail) for line in line_ends), (name, last)


def _introduces_qa(lines: list[str], i: int) -> bool:
    following = next((l for l in lines[i + 1 :] if l.strip()), "")
    return following.startswith("Q:") or "\t" in following


def test_no_source_text_is_lost(corpus_chunks):
    """Every substantial prose line of every file appears in some chunk. Exempt by design: table rows
    (checked by the table tests) and a heading that only introduces a run of Q&A pairs (each Q&A chunk is
    exactly "Q: ...\nA: ...")."""
    for name, docs in corpus_chunks.items():
        text = _squash(" ".join(d.page_content for d in docs))
        lines = _source_lines(name)
        for i, line in enumerate(lines):
            if "\t" in line or "<" in line or len(line.strip()) < 40 or _introduces_qa(lines, i):
                continue
            head = _squash(re.sub(r"^\s*[-–]\s+", "", line))[:60]
            assert head in text, (name, head)


def test_table_of_contents_is_skipped(corpus_chunks):
    for name in (BOOKLET, PROSPECTUS):
        for doc in corpus_chunks[name]:
            assert "....." not in doc.page_content
            assert not re.search(r"^Contents$", doc.page_content, flags=re.M)


# ---- Ealing Q&A sheet ---------------------------------------------------------------------------

def _ealing_pairs() -> list[tuple[str, str, list[str]]]:
    """(question, answer, continuation lines) read straight from the tab-separated file."""
    pairs: list[tuple[str, str, list[str]]] = []
    for line in _source_lines(QA_SHEET):
        if "\t" not in line:
            continue
        first, _, rest = line.partition("\t")
        if first.strip() == "Question":
            continue
        if first.strip():
            pairs.append((first.strip(), rest.strip(), []))
        elif rest.strip():
            pairs[-1][2].append(rest.strip())
    return pairs


def test_every_ealing_question_is_one_chunk_with_its_whole_answer(corpus_chunks):
    docs = corpus_chunks[QA_SHEET]
    pairs = _ealing_pairs()
    assert len(pairs) == 11
    qa = [d for d in docs if d.metadata["chunk_type"] == "qa"]
    assert len(qa) == len(pairs)
    for question, answer, continuation in pairs:
        doc = _only(qa, lambda d: d.metadata["question"] == question)
        assert doc.page_content.startswith(f"Q: {question}\nA: {_words(answer, 6)}")
        assert doc.metadata["section"] == question
        for line in continuation:
            assert line in doc.page_content
        assert doc.metadata["partnership"] == "Ealing Learning Partnership"
    assert not any(d.metadata["question"] == "Question" for d in docs)


def test_statement_row_and_garbled_last_row_are_kept(corpus_chunks):
    docs = corpus_chunks[QA_SHEET]
    statement = "If we care about our children – isolation is not in their best interests."
    doc = _only(docs, lambda d: d.metadata["question"] == statement)
    assert "Big initiatives – ELP will help facilitate" in doc.page_content
    last = _only(docs, lambda d: d.metadata["question"] == "Are nurseries in or out?")
    assert last.page_content.endswith("No learner left behims")


# ---- Hillingdon letter ---------------------------------------------------------------------------

def test_hillingdon_letter_qa_and_prose(corpus_chunks):
    docs = corpus_chunks[LETTER]
    lines = _source_lines(LETTER)
    questions = [l[2:].strip() for l in lines if l.startswith("Q:")]
    answers = [l[2:].strip() for l in lines if l.startswith("A:")]
    assert len(questions) == 3
    qa = [d for d in docs if d.metadata["chunk_type"] == "qa"]
    assert [d.metadata["question"] for d in qa] == questions
    for doc, question, answer in zip(qa, questions, answers):
        assert doc.page_content == f"Q: {question}\nA: {answer}"
    prose = [d for d in docs if d.metadata["chunk_type"] == "section"]
    assert prose and any("firm commitment to join Hillingdon Learning Partnership by the 18th March" in d.page_content for d in prose)
    assert all(d.metadata["section"] == "Invitation to join Hillingdon Learning Partnership" for d in prose)


# ---- Ealing prospectus --------------------------------------------------------------------------

def test_prospectus_faq_is_question_and_answer_chunks(corpus_chunks):
    docs = corpus_chunks[PROSPECTUS]
    qa = {d.metadata["question"]: d for d in docs if d.metadata["chunk_type"] == "qa"}
    assert len(qa) >= 9
    for question in ("What is ELP?", "What will it offer?", "How will it work?", "I'm an academy school. Why would I join?",
                     "I'm in a special school. Why would I join?", "We don't have any budget, how would we pay for it?"):
        assert question in qa, sorted(qa)
    academy = qa["I'm an academy school. Why would I join?"].page_content
    assert academy.startswith("Q: I'm an academy school. Why would I join?\nA: The ELP core offer, and additional services")
    assert qa["What is ELP?"].page_content.endswith("for the benefit of children and young people in Ealing")


def test_funding_table_is_one_whole_chunk_with_headers(corpus_chunks):
    docs = corpus_chunks[PROSPECTUS]
    table = _only(docs, lambda d: "£4,467" in d.page_content)
    text = table.page_content
    assert table.metadata["chunk_type"] == "table"
    assert table.metadata["section"] == "Table of funding and subscription rates for primary schools"
    assert text.startswith("Table of funding and subscription rates for primary schools")
    for needle in ("£15,244", "1 FE | 2 FE | 3 FE | 4 FE", "210 | 420 | 630 | 840", "Primary school roll",
                   "Scenario 1 | £811 | £5,622 | £10,433 | £15,244", "Scenario 2 | £234 | £4,467 | £8,701 | £12,934",
                   "Maintained Primaries | £733 | £1,466 | £2,199 | £2,932", "School effectiveness £16 per pupil added to MFG"):
        assert needle in text, needle
    assert len([d for d in docs if "£15,244" in d.page_content]) == 1


def test_html_offer_rows_are_one_clean_chunk_each(corpus_chunks):
    docs = corpus_chunks[PROSPECTUS]
    rows = [l for l in _source_lines(PROSPECTUS) if l.startswith("<p>")]
    titles = [re.match(r"<p>(.*?)</p>", l).group(1) for l in rows]
    assert "Leadership networks" in titles and "Governor support" in titles
    for title in titles:
        found = [d for d in docs if d.metadata["section"] == title]
        assert found and all(d.metadata["chunk_type"] == "table" for d in found), title
        assert all(d.page_content.startswith(title + "\n") for d in found)
    governor = " ".join(d.page_content for d in docs if d.metadata["section"] == "Governor support")
    assert "- Make the Instrument of Government" in governor
    assert "A strong well led and informed governing board is critical" in governor
    networks = _only(docs, lambda d: d.metadata["section"] == "Leadership networks").page_content
    assert "termly/half-termly leadership network meetings" in networks and "briefings on national policy changes" in networks


def test_board_members_table_is_whole(corpus_chunks):
    table = _only(corpus_chunks[PROSPECTUS], lambda d: "Tessa Hodgson" in d.page_content)
    assert "Liz Chiles Director HR and OD" in table.page_content
    assert table.metadata["section"] == "Ealing interim partnership board members"


def test_prospectus_prose_is_sectioned_by_headings(corpus_chunks):
    sections = {d.metadata["section"] for d in corpus_chunks[PROSPECTUS]}
    for heading in ("School Contributions to the Ealing Learning Partnership 2018 – 2019", "Scenario 1", "Scenario 2",
                    "Additional funding from the council", "We guarantee", "Leadership and Delivery"):
        assert heading in sections
    scenario = _only(corpus_chunks[PROSPECTUS], lambda d: d.metadata["section"] == "Scenario 2")
    assert scenario.page_content.startswith("Scenario 2\n50 primary and 14 high schools")
    assert "- Primary £4k per school and £6.11 per pupil" in scenario.page_content


# ---- review slides ------------------------------------------------------------------------------

def test_partnerships_table_rows_keep_their_column_headers(corpus_chunks):
    docs = corpus_chunks[SLIDES]
    header = "Partnership | Structure | Scope and service offer | Funding"
    for needle in ("Schools pay £19 per pupil", "Schools pay 89p per pupil", "Bexley Education Partnership"):
        doc = _only(docs, lambda d: needle in d.page_content)
        assert doc.metadata["chunk_type"] == "table"
        assert header in doc.page_content
        assert doc.metadata["section"].startswith("We have looked at a number of other local education partnerships")
    pieces = [d for d in docs if header in d.page_content]
    assert all(len(d.page_content) <= 1500 for d in pieces)
    assert sum("Bexley Education Partnership |" in d.page_content for d in pieces) == 1  # no row repeated
    # A piece holding one partnership's row is about that partnership.
    safe = _only(docs, lambda d: "Schools pay 89p per pupil" in d.page_content)
    assert safe.metadata["partnership"] == "SAfE (Surrey)"
    assert safe.metadata["section"].endswith("— SAfE (Surrey)")
    assert _only(docs, lambda d: "Schools pay £19 per pupil" in d.page_content).metadata["partnership"] == \
        "Haringey Education Partnership"


def test_slide_tables_stay_whole(corpus_chunks):
    docs = corpus_chunks[SLIDES]
    offer = _only(docs, lambda d: "Bi-annual health check adviser visit" in d.page_content and d.metadata["chunk_type"] == "table")
    for needle in ("Local Authority", "HASH/Primary Forum", "LLE and SLE Support", "SLE led Subject and Curriculum Networks",
                   "Additional support — HASH/Primary Forum:\n- Peer Reviews"):
        assert needle in offer.page_content
    costs = _only(docs, lambda d: "£29,500" in d.page_content)
    for needle in ("Partnership offer | Assumptions | Potential Costs", "£49,200", "£35,000 £44,100", "£20,000"):
        assert needle in costs.page_content


def test_slides_are_chunked_by_title(corpus_chunks):
    docs = corpus_chunks[SLIDES]
    slides = [d for d in docs if d.metadata["chunk_type"] == "slide"]
    titles = {d.metadata["section"] for d in slides}
    for title in ("Conditions to make partnership working more effective", "Questions to Heads",
                  "What are the different options for how funding of the partnership could work?",
                  "Potential timeline and next steps for taking this work forward..."):
        assert title in titles
    for doc in slides:
        assert doc.page_content.startswith(doc.metadata["section"] + "\n")
    option3 = _only(slides, lambda d: "Option 3 – Core Only" in d.page_content)
    assert "Option 1 – Single Partnership fee" in option3.page_content


# ---- AEPA booklet -------------------------------------------------------------------------------

def test_booklet_profiles_carry_their_partnership(corpus_chunks):
    docs = corpus_chunks[BOOKLET]
    assert _only(docs, lambda d: "81% owned by 56 local schools" in d.page_content).metadata["partnership"] == \
        "Barking and Dagenham School Improvement Partnership"
    haringey = _only(docs, lambda d: "£19 per pupil annually" in d.page_content)
    assert haringey.metadata["partnership"] == "Haringey Education Partnership"
    assert haringey.metadata["section"] == "Haringey Education Partnership — What does the partnership do and how?"
    assert haringey.page_content.startswith(haringey.metadata["section"] + "\n")
    assert _only(docs, lambda d: "Camden Primary Maths Hub" in d.page_content).metadata["partnership"] == "Camden Learning"
    aepa = _only(docs, lambda d: "Baroness Estelle Morris" in d.page_content)
    assert aepa.metadata["partnership"] == "Area-based Education Partnership Association (AEPA)"


def test_every_profile_has_its_subsections(corpus_chunks):
    docs = corpus_chunks[BOOKLET]
    meta = doc_meta_for(CORPUS / BOOKLET, load_corpus_metadata(CORPUS))
    sections = {(d.metadata["partnership"], d.metadata["section"]) for d in docs}
    for name in meta.partnerships:
        for sub in ("Origins", "What does the partnership do and how?", "Key challenges and priorities for 2021"):
            assert (name, f"{name} — {sub}") in sections, (name, sub)
        assert all(d.metadata["section"].startswith(name) for d in docs if d.metadata["partnership"] == name)
    assert ("Lewisham Learning", "Lewisham Learning — For more information") in sections


def test_booklet_intro_chapters_have_no_partnership(corpus_chunks):
    docs = corpus_chunks[BOOKLET]
    for needle, section in (("Partnerships draw their funds from five major areas", "Resourcing and sustaining partnerships"),
                            ("company limited by guarantee, with schools demonstrating commitment", "Governance"),
                            ("Schools are not being compelled to join", "Introduction")):
        doc = _only(docs, lambda d: needle in d.page_content)
        assert doc.metadata["partnership"] == "" and doc.metadata["section"] == section


def test_long_sections_are_split_with_the_title_on_every_piece(corpus_chunks):
    docs = [d for d in corpus_chunks[BOOKLET] if d.metadata["section"] == "Resourcing and sustaining partnerships"]
    assert len(docs) >= 2
    for doc in docs:
        assert doc.page_content.startswith("Resourcing and sustaining partnerships\n")
        assert len(doc.page_content) <= 1250
        assert doc.page_content.endswith((".", ":", "?", "!")) or doc.page_content.splitlines()[-1].startswith("- ")


# ---- unknown documents --------------------------------------------------------------------------

def _generic(text: str, name: str = "notes.txt") -> list:
    return chunk_pages([Page(text=text, number=None)], DocMeta(name, "Notes", (), "document", None))


def test_unknown_document_detects_qa_by_content():
    text = ("Staff briefing\n\nQ: When do subscriptions start?\nA: In April.\n\n"
            "Q: Who chairs the board?\n\nA: An elected headteacher.\nThe deputy is an officer.\n\n"
            "Question\tAnswer\nIs lunch provided?\tYes.\n\tVegetarian options too.\nWhere is it held?\tThe civic centre.\n")
    docs = _generic(text)
    qa = {d.metadata["question"]: d.page_content for d in docs if d.metadata["chunk_type"] == "qa"}
    assert qa == {
        "When do subscriptions start?": "Q: When do subscriptions start?\nA: In April.",
        "Who chairs the board?": "Q: Who chairs the board?\nA: An elected headteacher.\nThe deputy is an officer.",
        "Is lunch provided?": "Q: Is lunch provided?\nA: Yes.\nVegetarian options too.",
        "Where is it held?": "Q: Where is it held?\nA: The civic centre.",
    }
    assert all(d.metadata["partnership"] == "" and d.metadata["partnerships"] == "" for d in docs)


def test_unknown_document_sections_and_sentence_safe_splitting():
    sentence = "The partnership board reviews every cluster report in detail before each termly meeting. "
    text = "# Annual review\n\n" + sentence * 40 + "\n\nFunding\n\nSchools pay per pupil. The council matches it.\n"
    docs = _generic(text, "review.md")
    review = [d for d in docs if d.metadata["section"] == "Annual review"]
    assert len(review) >= 3
    for doc in review:
        assert doc.page_content.startswith("Annual review\n")
        assert doc.page_content.endswith("before each termly meeting.")
        assert len(doc.page_content) <= 1200
    funding = _only(docs, lambda d: d.metadata["section"] == "Funding")
    assert funding.page_content == "Funding\nSchools pay per pupil. The council matches it."
    assert all(d.metadata["chunk_type"] == "section" for d in docs)


def test_long_unbroken_text_is_still_bounded():
    docs = _generic("word " * 2000)
    assert docs and all(len(d.page_content) <= MAX_CHUNK for d in docs)


def test_blank_runs_are_collapsed_and_whitespace_dropped():
    docs = _generic("Heading one\n\n\n\n   \n\t\nFirst para.\n\n\n\nSecond para.\n\n \n")
    assert [d.page_content for d in docs] == ["Heading one\nFirst para.\n\nSecond para."]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3000)
       | st.lists(st.sampled_from(["Q: why?", "A: because.", "Heading", "", "\t", "a\tb", "x\t\ty", "<p>t</p>\tz",
                                   "- item", "Contents", "Intro.....\t3", "# Title", "Sentence one. Two!", "What?"]),
                  max_size=40).map("\n".join))
def test_any_text_chunks_without_crashing_or_empty_chunks(tmp_path, text):
    path = tmp_path / "anything.txt"
    path.write_bytes(text.encode("utf-8"))
    try:
        pages = load_pages(path)
    except IngestError:
        return
    docs = chunk_pages(pages, doc_meta_for(path, {}))
    for index, doc in enumerate(docs):
        assert doc.page_content.strip()
        assert doc.metadata["chunk_index"] == index
        assert set(doc.metadata) == set(METADATA_KEYS)
