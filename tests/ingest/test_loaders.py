"""Loaders: text and PDF files load into pages; every unusable file is refused with a specific reason."""
from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import IngestError
from ingest.chunking import chunk_pages
from ingest.loaders import SUPPORTED_SUFFIXES, Page, load_pages
from ingest.metadata import DocMeta, doc_meta_for, load_corpus_metadata, title_from_filename

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def _error(path: Path, **kwargs) -> str:
    with pytest.raises(IngestError) as info:
        load_pages(path, **kwargs)
    return str(info.value)


# ---- text ---------------------------------------------------------------------------------------

def test_text_file_strips_bom_and_normalises_newlines(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes("\ufeffFirst line\r\nSecond line\rThird line\n".encode("utf-8"))
    pages = load_pages(path)
    assert pages == [Page(text="First line\nSecond line\nThird line\n", number=None)]


def test_markdown_is_supported(tmp_path):
    path = tmp_path / "readme.md"
    path.write_text("# Title\n\nSome text.\n", encoding="utf-8")
    assert load_pages(path)[0].text.startswith("# Title")
    assert SUPPORTED_SUFFIXES >= {".txt", ".md", ".pdf", ".docx", ".pptx"}


def test_unsupported_type_names_the_suffix_and_the_supported_ones(tmp_path):
    path = tmp_path / "sheet.xyz"
    path.write_text("data")
    message = _error(path)
    assert "unsupported file type '.xyz'" in message
    assert "(supported: .docx, .md, .pdf, .pptx, .txt)" in message


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert _error(path) == "file is empty"


def test_whitespace_only_file(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("  \n\t\n  \n")
    assert "only whitespace" in _error(path)


def test_missing_file(tmp_path):
    assert "file not found" in _error(tmp_path / "gone.txt")


def test_oversize_is_refused_from_stat_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    path.write_text("x" * 3000)

    def no_reading(self):
        raise AssertionError("file was read before its size was checked")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    message = _error(path, max_bytes=1024)
    assert "file is larger than" in message and "MB limit" in message
    assert "(0.0 MB)" in message


def test_oversize_message_uses_megabytes(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * (3 * 1024 * 1024))
    assert _error(path, max_bytes=2 * 1024 * 1024) == "file is larger than 2 MB limit (3.0 MB)"


def test_binary_renamed_to_txt(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    assert "contains NUL bytes — looks binary" in _error(path)


def test_non_utf8_text_names_byte_and_offset(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("café au lait".encode("latin-1"))
    message = _error(path)
    assert "not valid UTF-8 text" in message
    assert "byte 0xe9 at offset 3" in message
    assert "binary" in message


# ---- PDF ----------------------------------------------------------------------------------------

def test_three_page_pdf_keeps_page_numbers(three_page_pdf, pdf_tools):
    THREE_PAGES = pdf_tools[2]
    pages = load_pages(three_page_pdf)
    assert [p.number for p in pages] == [1, 2, 3]
    for page, lines in zip(pages, THREE_PAGES):
        assert lines[0] in page.text and lines[2].split(".")[0] in page.text


def test_pdf_chunks_carry_their_page_and_never_span_pages(three_page_pdf):
    pages = load_pages(three_page_pdf)
    meta = DocMeta(source="three-pages.pdf", title="Three Pages", partnerships=(), kind="document", date=None)
    docs = chunk_pages(pages, meta)
    assert {d.metadata["page"] for d in docs} == {1, 2, 3}
    for doc in docs:
        page_text = " ".join(pages[doc.metadata["page"] - 1].text.split())
        for line in doc.page_content.splitlines():
            assert " ".join(line.split()) in page_text, (line, doc.metadata["page"])
    by_page = {d.metadata["page"]: d.page_content for d in docs}
    assert "Eight headteachers sit on it." in by_page[2]
    assert "Invoices follow in April." in by_page[3]


def test_pdf_blank_page_in_the_middle_keeps_real_numbers(pdf_factory, pdf_tools):
    make_pdf, encrypt_pdf, THREE_PAGES = pdf_tools
    path = pdf_factory("gap.pdf", make_pdf([["Page one text."], [], ["Page three text."]]))
    assert [p.number for p in load_pages(path)] == [1, 3]


def test_corrupt_pdf(pdf_factory):
    import random

    noise = bytes(random.Random(7).randrange(256) for _ in range(4000))
    path = pdf_factory("corrupt.pdf", b"%PDF-1.7\n" + noise)
    assert _error(path).startswith("corrupt or truncated PDF: ")


def test_truncated_pdf(pdf_factory, pdf_tools):
    make_pdf, encrypt_pdf, THREE_PAGES = pdf_tools
    data = make_pdf(THREE_PAGES)
    path = pdf_factory("truncated.pdf", data[: len(data) // 2])
    assert _error(path).startswith("corrupt or truncated PDF: ")


def test_pdf_without_header(pdf_factory):
    path = pdf_factory("fake.pdf", b"this is not a pdf at all")
    assert _error(path) == "corrupt or truncated PDF: missing %PDF- header"


def test_encrypted_pdf_with_user_password(pdf_factory, pdf_tools):
    make_pdf, encrypt_pdf, THREE_PAGES = pdf_tools
    path = pdf_factory("locked.pdf", encrypt_pdf(make_pdf(THREE_PAGES), user_password="s3cret"))
    assert "PDF is encrypted" in _error(path)


def test_encrypted_pdf_with_empty_user_password_opens(pdf_factory, pdf_tools):
    make_pdf, encrypt_pdf, THREE_PAGES = pdf_tools
    path = pdf_factory("owner-only.pdf", encrypt_pdf(make_pdf(THREE_PAGES), user_password=""))
    pages = load_pages(path)
    assert [p.number for p in pages] == [1, 2, 3]
    assert "Governance" in pages[1].text


def test_pdf_with_no_text_layer(pdf_factory, pdf_tools):
    make_pdf, encrypt_pdf, THREE_PAGES = pdf_tools
    path = pdf_factory("scan.pdf", make_pdf([[]]))
    assert "PDF has no extractable text — scanned?" in _error(path)


def test_zero_byte_pdf(pdf_factory):
    assert _error(pdf_factory("zero.pdf", b"")) == "file is empty"


# ---- metadata -----------------------------------------------------------------------------------

def test_corpus_metadata_is_read():
    known = load_corpus_metadata(CORPUS)
    assert set(known) == {p.name for p in CORPUS.glob("*.txt")}
    booklet = known["aepa-learning-locally-london-partnerships.txt"]
    assert booklet.kind == "booklet" and "Haringey Education Partnership" in booklet.partnerships
    assert known["ealing-elp-qa-briefings-2017-11.txt"].date == "November 2017"


def test_unknown_file_gets_default_metadata(tmp_path):
    meta = doc_meta_for(tmp_path / "my-partnership_notes.txt", {})
    assert meta == DocMeta("my-partnership_notes.txt", "My Partnership Notes", (), "document", None)
    assert title_from_filename(Path("hillingdon-hlp-invitation-to-join.txt")) == "Hillingdon Hlp Invitation To Join"


def test_missing_metadata_file_means_no_entries(tmp_path):
    assert load_corpus_metadata(tmp_path) == {}


def test_malformed_metadata_is_a_clear_error(tmp_path):
    (tmp_path / "metadata.yaml").write_text("a.txt: [unclosed\n")
    with pytest.raises(IngestError, match="metadata.yaml: not valid YAML"):
        load_corpus_metadata(tmp_path)
    (tmp_path / "metadata.yaml").write_text("- just\n- a list\n")
    with pytest.raises(IngestError, match="expected a mapping"):
        load_corpus_metadata(tmp_path)


def test_pdf_wrapped_paragraphs_are_rejoined_and_split_on_sentences(pdf_factory, pdf_tools):
    """PDF lines are visual lines; chunks must still follow headings and end on whole sentences."""
    import textwrap

    make_pdf = pdf_tools[0]
    sentence = "Each cluster of schools meets every half term to review progress against its shared priorities. "
    wrapped = textwrap.wrap(sentence * 60, width=95)
    path = pdf_factory("wrapped.pdf", make_pdf([
        ["Cluster reviews", *wrapped[:45]],
        [*wrapped[45:], "Funding", "Schools pay a subscription. The council matches it."],
    ]))
    pages = load_pages(path)
    meta = DocMeta(source="wrapped.pdf", title="Wrapped", partnerships=(), kind="document", date=None)
    docs = chunk_pages(pages, meta)
    reviews = [d for d in docs if d.metadata["section"] == "Cluster reviews"]
    assert len(reviews) >= 3 and {d.metadata["page"] for d in reviews} == {1, 2}
    last_on_page_1 = max(i for i, d in enumerate(reviews) if d.metadata["page"] == 1)
    for i, doc in enumerate(reviews):
        assert doc.page_content.startswith("Cluster reviews\n")
        assert len(doc.page_content) <= 1200
        assert "\n" not in doc.page_content.split("\n", 1)[1]  # wrapped lines rejoined into one paragraph
        if i == last_on_page_1:  # a chunk never spans pages, so this one stops where page 1 stops
            assert doc.page_content.endswith(wrapped[44])
        else:
            assert doc.page_content.endswith("against its shared priorities."), doc.page_content[-60:]
    rejoined = " ".join(d.page_content.split("\n", 1)[1] for d in reviews)
    assert " ".join(rejoined.split()) == " ".join(wrapped)
    funding = [d for d in docs if d.metadata["section"] == "Funding"]
    assert [d.page_content for d in funding] == ["Funding\nSchools pay a subscription. The council matches it."]
    assert funding[0].metadata["page"] == 2


# ---- Word ---------------------------------------------------------------------------------------

def _make_docx(path: Path, build) -> Path:
    import docx

    document = docx.Document()
    build(document)
    document.save(str(path))
    return path


def test_docx_headings_lists_and_tables_are_chunked(tmp_path):
    def build(document):
        document.add_heading("Membership fees", level=1)
        document.add_paragraph("Every school pays the same fee. Invoices are sent in April.")
        document.add_paragraph("Federations pay once", style="List Bullet")
        document.add_paragraph("Small schools get no discount", style="List Bullet")
        document.add_heading("Rates", level=2)
        table = document.add_table(rows=3, cols=3)
        for r, row in enumerate([("Phase", "Per school", "Per pupil"), ("Primary", "£4,000", "£3.36"), ("Secondary", "£6,500", "£3.40")]):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
        document.add_paragraph("Q: Can we pay termly?")
        document.add_paragraph("A: Yes, by arrangement.")

    path = _make_docx(tmp_path / "fees.docx", build)
    pages = load_pages(path)
    assert [p.number for p in pages] == [None]
    docs = chunk_pages(pages, doc_meta_for(path, {}))
    by_section = {d.metadata["section"]: d for d in docs}
    fees = by_section["Membership fees"].page_content
    assert fees == ("Membership fees\nEvery school pays the same fee. Invoices are sent in April.\n\n"
                    "- Federations pay once\n- Small schools get no discount")
    rates = by_section["Rates"]
    assert rates.metadata["chunk_type"] == "table"
    assert rates.page_content == "Rates\nPhase | Per school | Per pupil\nPrimary | £4,000 | £3.36\nSecondary | £6,500 | £3.40"
    qa = [d for d in docs if d.metadata["chunk_type"] == "qa"]
    assert [d.page_content for d in qa] == ["Q: Can we pay termly?\nA: Yes, by arrangement."]
    assert all(d.metadata["page"] == -1 for d in docs)


def test_docx_errors(tmp_path):
    corrupt = tmp_path / "corrupt.docx"
    corrupt.write_bytes(b"PK\x03\x04 definitely not a real zip archive")
    assert _error(corrupt).startswith("corrupt or unreadable Word document")
    ole = tmp_path / "locked.docx"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    assert "Word document is encrypted" in _error(ole)
    empty = _make_docx(tmp_path / "empty.docx", lambda document: document.add_paragraph("   "))
    assert _error(empty) == "Word document has no text"
