"""PowerPoint decks (.pptx, generated with python-pptx): one chunk per slide with its title, body, tables,
grouped shapes and speaker notes, cited by slide number; broken decks refused with their own reason while
the rest of the folder is indexed."""
from __future__ import annotations

import io
import re
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings
from hypothesis import strategies as st
from pptx import Presentation
from typer.testing import CliRunner

from assistant.errors import IngestError
from ingest.chunking import SLIDE_MAX_CHARS, chunk_pages
from ingest.loaders import Page, load_pages
from ingest.metadata import DocMeta, doc_meta_for
from integrations.cli.app import app
from tests.support.paths import CORPUS
from tests.decks import Slide, encrypted_deck, make_deck, old_ppt
from tests.pdfs import make_pdf

META = DocMeta(source="deck.pptx", title="Deck", partnerships=("Riverside Schools Partnership",), kind="review_slides", date=None)


def _chunks(tmp_path: Path, slides: list[Slide], meta: DocMeta = META):
    path = tmp_path / "deck.pptx"
    path.write_bytes(make_deck(slides))
    return chunk_pages(load_pages(path), meta)


def _error(tmp_path: Path, data: bytes, name: str = "deck.pptx", **kwargs) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IngestError) as info:
        load_pages(path, **kwargs)
    return str(info.value)


# ---- one chunk per slide ------------------------------------------------------------------------

def test_each_slide_is_one_chunk_with_its_title_body_notes_and_number(tmp_path):
    docs = _chunks(tmp_path, [
        Slide(title="Riverside Schools Partnership review", bullets=["Headteacher conference, March 2025"]),
        # Lines the prose heuristics would split (short label lines, a question followed by its answer):
        # on a slide they stay together.
        Slide(title="Membership fee", bullets=[
            "Core offer", "Peer reviews", "Is it all or nothing?",
            "Every member school pays a flat fee of £2,750 a year.",
        ], notes="Invoices are sent in September.\nThey are payable within 30 days."),
        Slide(),  # blank: no chunk, and the numbering of the slides after it is kept
        Slide(title="Questions?"),  # title only
        Slide(notes="Thank the steering group."),  # notes only
    ])
    assert [(d.metadata["page"], d.metadata["section"], d.metadata["chunk_type"]) for d in docs] == [
        (1, "Riverside Schools Partnership review", "slide"),
        (2, "Membership fee", "slide"),
        (4, "Questions?", "slide"),
        (5, "", "slide"),
    ]
    assert [d.page_content for d in docs] == [
        "Riverside Schools Partnership review\nHeadteacher conference, March 2025",
        "Membership fee\nCore offer\nPeer reviews\nIs it all or nothing?\n"
        "Every member school pays a flat fee of £2,750 a year.\n\n"
        "Speaker notes:\nInvoices are sent in September.\nThey are payable within 30 days.",
        "Questions?",
        "Speaker notes:\nThank the steering group.",
    ]
    assert [d.metadata["chunk_index"] for d in docs] == [0, 1, 2, 3]
    assert {d.metadata["partnership"] for d in docs} == {"Riverside Schools Partnership"}
    assert {d.metadata["source"] for d in docs} == {"deck.pptx"}


def test_slides_are_marked_by_the_loader_so_the_chunker_never_guesses(tmp_path):
    """A deck with no metadata (kind "document", where '?' lines open Q&A chunks) is still chunked by slide."""
    path = tmp_path / "untitled-deck.pptx"
    path.write_bytes(make_deck([Slide(title="Can we pay termly?", bullets=["Yes, by arrangement with the clerk."])]))
    pages = load_pages(path)
    assert pages == [Page(text="Yes, by arrangement with the clerk.", number=1, slide=True, title="Can we pay termly?")]
    (doc,) = chunk_pages(pages, doc_meta_for(path, {}))
    assert doc.metadata["chunk_type"] == "slide" and doc.metadata["question"] == ""
    assert doc.metadata["section"] == "Can we pay termly?" and doc.metadata["page"] == 1
    assert doc.page_content == "Can we pay termly?\nYes, by arrangement with the clerk."


def test_a_table_on_a_slide_is_read_row_by_row(tmp_path):
    (doc,) = _chunks(tmp_path, [Slide(title="Subscription rates", table=[
        ["Phase", "Per school", "Per pupil"],
        ["Primary", "£4,000", "£3.36"],
        ["", "", ""],  # an empty row adds nothing
        ["Secondary", "£6,500", "£3.40"],
    ], boxes=["Rates apply from April 2025."])])
    assert doc.page_content == ("Subscription rates\nPhase | Per school | Per pupil\nPrimary | £4,000 | £3.36\n"
                                "Secondary | £6,500 | £3.40\nRates apply from April 2025.")
    assert doc.metadata["section"] == "Subscription rates"


def test_a_merged_table_cell_is_read_once(tmp_path):
    deck = Presentation(io.BytesIO(make_deck([Slide(title="Costs", table=[["2024-25 costs", ""], ["Training", "£500"]])])))
    table = next(shape for shape in deck.slides[0].shapes if shape.has_table).table
    table.cell(0, 0).merge(table.cell(0, 1))
    path = tmp_path / "merged.pptx"
    deck.save(str(path))
    assert load_pages(path)[0].text == "2024-25 costs\nTraining | £500"


def test_grouped_shapes_and_nested_groups_are_read_in_order(tmp_path):
    data = make_deck([Slide(title="How peer review works", boxes=["Two stages each year."],
                            group=["Reviewers are trained in the autumn.", "Paired visits happen in the spring."])])
    deck = Presentation(io.BytesIO(data))
    group = next(shape for shape in deck.slides[0].shapes if shape.shape_type == 6)  # MSO_SHAPE_TYPE.GROUP
    inner = group.shapes.add_group_shape()
    inner.shapes.add_textbox(0, 0, 100, 100).text_frame.text = "Reports go to the board in the summer."
    path = tmp_path / "groups.pptx"
    deck.save(str(path))
    (doc,) = chunk_pages(load_pages(path), META)
    assert doc.page_content == ("How peer review works\nTwo stages each year.\nReviewers are trained in the autumn.\n"
                                "Paired visits happen in the spring.\nReports go to the board in the summer.")


def test_line_breaks_inside_a_paragraph_and_a_two_line_title(tmp_path):
    (doc,) = _chunks(tmp_path, [Slide(title="Next steps\vand timeline", bullets=["Sign up by March\vInvoices in April"])])
    assert doc.metadata["section"] == "Next steps and timeline"
    assert doc.page_content == "Next steps and timeline\nSign up by March\nInvoices in April"


def test_only_a_very_long_slide_is_cut_and_every_piece_keeps_title_and_slide(tmp_path):
    sentence = "The steering group reviewed every cluster's progress against the shared priorities. "
    docs = _chunks(tmp_path, [Slide(title="Cluster reviews", bullets=["Summary of findings."], notes=sentence * 120),
                              Slide(title="x" * 300, bullets=["A title too long to be a title."])])
    reviews, long_title = docs[:-1], docs[-1]
    assert len(reviews) >= 3
    for doc in reviews:
        assert doc.page_content.startswith("Cluster reviews\n") and len(doc.page_content) <= SLIDE_MAX_CHARS
        assert doc.metadata["page"] == 1 and doc.metadata["section"] == "Cluster reviews"
    rejoined = " ".join(d.page_content.split("\n", 1)[1] for d in reviews)
    assert " ".join(rejoined.split()) == " ".join(("Summary of findings.\n\nSpeaker notes:\n" + sentence * 120).split())
    assert long_title.metadata["section"] == "" and long_title.metadata["page"] == 2
    assert long_title.page_content == "x" * 300 + "\nA title too long to be a title."


# ---- refused decks ------------------------------------------------------------------------------

GOOD_DECK = make_deck([Slide(title="Membership fee", bullets=["Every school pays £2,750."], notes="Invoices in September.")])


def test_truncated_and_corrupt_decks(tmp_path):
    truncated = _error(tmp_path, GOOD_DECK[: len(GOOD_DECK) // 2])
    assert truncated.startswith("corrupt or truncated PowerPoint file: damaged zip archive"), truncated
    garbage = _error(tmp_path, b"PK\x03\x04" + bytes(range(256)) * 8)
    assert garbage.startswith("corrupt or truncated PowerPoint file: "), garbage
    # A zip with a slide whose XML is cut off.
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(GOOD_DECK))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as damaged:
        for item in source.infolist():
            body = source.read(item)
            damaged.writestr(item, body[: len(body) // 2] if item.filename == "ppt/slides/slide1.xml" else body)
    assert _error(tmp_path, out.getvalue()).startswith("corrupt or truncated PowerPoint file: ")


def test_a_file_of_another_kind_renamed_pptx(tmp_path):
    message = "not a PowerPoint .pptx file: it is not a zip archive (another kind of file renamed .pptx?)"
    assert _error(tmp_path, make_pdf([["Partnership funding"]])) == message
    assert _error(tmp_path, "Membership fee: £2,750\n".encode()) == message
    import docx

    word = io.BytesIO()
    docx.Document().save(word)
    assert _error(tmp_path, word.getvalue()).startswith("not a PowerPoint presentation: the zip archive holds another kind")


def test_encrypted_and_old_format_decks(tmp_path):
    assert _error(tmp_path, encrypted_deck()) == \
        "PowerPoint file is encrypted (password protected); remove the password and ingest again"
    assert _error(tmp_path, old_ppt()) == "PowerPoint file is in the old binary .ppt format, not .pptx; save it as .pptx"


def test_decks_without_text(tmp_path):
    assert _error(tmp_path, make_deck([])) == "PowerPoint presentation has no slides"
    assert _error(tmp_path, make_deck([Slide(), Slide()])).startswith("PowerPoint presentation has no text on any slide")
    assert _error(tmp_path, b"") == "file is empty"


def test_the_size_limit_applies_to_decks(tmp_path):
    assert _error(tmp_path, GOOD_DECK, max_bytes=1024) == \
        f"file is larger than 0.00098 MB limit ({len(GOOD_DECK) / 1024 / 1024:.1f} MB)"


@hyp_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=len(GOOD_DECK)), flips=st.lists(
    st.tuples(st.integers(min_value=0, max_value=len(GOOD_DECK) - 1), st.integers(min_value=0, max_value=255)), max_size=8))
def test_damaged_decks_load_or_fail_with_an_ingest_error(tmp_path, cut, flips):
    data = bytearray(GOOD_DECK[:cut])
    for offset, value in flips:
        if offset < len(data):
            data[offset] = value
    path = tmp_path / "damaged.pptx"
    path.write_bytes(bytes(data))
    try:
        docs = chunk_pages(load_pages(path), META)  # any exception but IngestError fails the test
    except IngestError as exc:
        assert str(exc)
        return
    for index, doc in enumerate(docs):
        assert doc.page_content.strip() and doc.metadata["chunk_index"] == index
        assert doc.metadata["chunk_type"] == "slide" and doc.metadata["page"] >= 1


# ---- end to end: `partnership ingest` a folder, then ask ----------------------------------------

RIVERSIDE = [
    Slide(title="Riverside Schools Partnership review", bullets=["Headteacher conference, March 2025"]),
    Slide(title="Membership fee", bullets=["Every member school pays a flat fee of £2,750 a year.",
                                           "Federations pay one fee for all their schools."],
          notes="Invoices are sent to schools in September and are payable within 30 days."),
    Slide(),
    Slide(title="Peer review programme", table=[["Term", "Activity"], ["Autumn", "Reviewer training"], ["Spring", "Paired school visits"]],
          group=["Every member school is peer reviewed once every two years by two trained headteachers."]),
    Slide(title="Questions?"),
]
RIVERSIDE_META = """
riverside-review.pptx:
  title: "Riverside Schools Partnership review slides"
  partnership: [Riverside Schools Partnership]
  kind: review_slides
  date: "March 2025"
"""


def test_ingest_a_folder_with_decks_then_answers_cite_the_slide(tmp_path):
    runner = CliRunner()
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / "ealing-elp-qa-briefings-2017-11.txt", docs)
    (docs / "metadata.yaml").write_text((CORPUS / "metadata.yaml").read_text(encoding="utf-8") + RIVERSIDE_META, encoding="utf-8")
    (docs / "riverside-review.pptx").write_bytes(make_deck(RIVERSIDE))
    bad = {
        "truncated.pptx": (GOOD_DECK[: len(GOOD_DECK) // 3], "corrupt or truncated PowerPoint file: damaged zip archive"),
        "renamed.pptx": (make_pdf([["Partnership funding"]]), "not a PowerPoint .pptx file: it is not a zip archive"),
        "locked.pptx": (encrypted_deck(), "PowerPoint file is encrypted (password protected)"),
        "pictures-only.pptx": (make_deck([Slide(), Slide()]), "PowerPoint presentation has no text on any slide"),
    }
    for name, (data, _) in bad.items():
        (docs / name).write_bytes(data)

    result = runner.invoke(app, ["ingest", str(docs), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    errors = {f["source"]: f["error"] for f in report["failed"]}
    assert set(errors) == set(bad)
    for name, (_, words) in bad.items():
        assert errors[name].startswith(words), (name, errors[name])
    assert report["added"] == 2

    listed = {d["source"]: d["chunks"] for d in json.loads(runner.invoke(app, ["docs", "--json"]).stdout)}
    assert listed["riverside-review.pptx"] == 4  # five slides, one blank

    for question, slide, title, words in (
        ("How much is the Riverside membership fee?", 2, "Membership fee", "£2,750"),
        ("When are invoices for the Riverside membership fee sent?", 2, "Membership fee", "September"),  # speaker notes
        ("How often is each Riverside school peer reviewed?", 4, "Peer review programme", "once every two years"),  # a group
    ):
        result = runner.invoke(app, ["ask", question, "--json"])
        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        assert answer["grounded"] is True, answer
        assert words in answer["answer"], answer["answer"]
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])}
        deck_cites = [c for c in answer["citations"] if c["n"] in cited and c["source"] == "riverside-review.pptx"]
        assert deck_cites, answer
        assert any(words in c["snippet"] and c["page"] == slide and c["section"] == title for c in deck_cites), deck_cites

    # The deck breaks on a later save: refused, and what was indexed for it is kept.
    (docs / "riverside-review.pptx").write_bytes(make_deck(RIVERSIDE)[:4000])
    for name in bad:
        (docs / name).unlink()
    again = json.loads(runner.invoke(app, ["ingest", str(docs), "--json"]).stdout)
    assert [f["source"] for f in again["failed"]] == ["riverside-review.pptx"]
    assert again["failed"][0]["error"].startswith("corrupt or truncated PowerPoint file")
    assert again["unchanged"] == 1
    listed = {d["source"]: d["chunks"] for d in json.loads(runner.invoke(app, ["docs", "--json"]).stdout)}
    assert listed["riverside-review.pptx"] == 4
