"""Broken and hostile files: loaders fuzzed with hypothesis, and a folder of nasty files ingested in one
run — each refused with its own reason, the good ones indexed, nothing already indexed lost."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings
from hypothesis import strategies as st

import ingest.pipeline as pipeline
from assistant.config import Settings
from assistant.errors import IngestError
from assistant.store import ChunkStore
from ingest.chunking import chunk_pages
from ingest.loaders import load_pages
from ingest.metadata import doc_meta_for
from tests.durability.conftest import CORPUS, EDITED, KEPT
from tests.pdfs import encrypt_pdf, make_pdf

FUZZ = hyp_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


GOOD_PDF = make_pdf([["Partnership funding", "Schools pay a subscription each year."], ["The board meets every term."]])


def load_and_chunk(name: str, data: bytes):
    """load_pages + chunk_pages on `data` saved as `name`: the Documents, or the IngestError."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return chunk_pages(load_pages(path, max_bytes=10 * 1024 * 1024), doc_meta_for(path, {}))
        except IngestError as exc:
            assert str(exc), "an IngestError must say why"
            return exc


def assert_well_formed(docs) -> None:
    for index, doc in enumerate(docs):
        assert doc.page_content.strip()
        assert doc.metadata["chunk_index"] == index
        assert all(isinstance(v, (str, int, float, bool)) for v in doc.metadata.values()), doc.metadata


@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".txt", ".md", ".pdf", ".docx"]))
def test_any_bytes_load_or_fail_with_an_ingest_error(data, suffix):
    result = load_and_chunk(f"fuzzed{suffix}", data)  # any other exception fails the test
    if not isinstance(result, IngestError):
        assert_well_formed(result)


@FUZZ
@given(text=st.text(max_size=3000), suffix=st.sampled_from([".txt", ".md"]))
def test_any_text_chunks_into_well_formed_documents(text, suffix):
    result = load_and_chunk(f"fuzzed{suffix}", text.encode("utf-8"))
    if isinstance(result, IngestError):  # only for nothing to read, or NUL bytes (binary)
        assert not text.removeprefix("\ufeff").strip() or "\x00" in text, result
    else:
        assert_well_formed(result)


@FUZZ
@given(cut=st.integers(min_value=0, max_value=len(GOOD_PDF)), flips=st.lists(
    st.tuples(st.integers(min_value=0, max_value=len(GOOD_PDF) - 1), st.integers(min_value=0, max_value=255)), max_size=8))
def test_damaged_pdfs_load_or_fail_with_an_ingest_error(cut, flips):
    data = bytearray(GOOD_PDF[:cut])
    for offset, value in flips:
        if offset < len(data):
            data[offset] = value
    result = load_and_chunk("damaged.pdf", bytes(data))
    if not isinstance(result, IngestError):
        assert_well_formed(result)


def test_a_one_megabyte_line_and_deep_nesting_become_bounded_chunks(tmp_path):
    words = "governors approve the partnership budget each spring term "
    line = (words * (1_000_000 // len(words) + 1))[:1_000_000]
    nested = "<div><ul><li>" * 10_000 + "The partnership meets termly." + "</li></ul></div>" * 10_000
    table = "Question\tResponses\nWho chairs the board?\t" + "<ul><li><p>" * 5_000 + "The chair is elected." + "</p></li></ul>" * 5_000 + "\n"
    for name, text in (("one-line.txt", line), ("nested.md", nested), ("nested-table.txt", table)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        docs = chunk_pages(load_pages(path), doc_meta_for(path, {}))
        assert_well_formed(docs)
        assert max(len(d.page_content) for d in docs) <= 4000, name
    assert len(" ".join(d.page_content for d in chunk_pages(load_pages(tmp_path / "one-line.txt"), doc_meta_for(tmp_path / "one-line.txt", {})))) >= 900_000


NASTY = {
    # name: (bytes or a callable that makes the file, expected words of the error)
    "empty.txt": (b"", "file is empty"),
    "zero-byte.pdf": (b"", "file is empty"),
    "truncated.pdf": (GOOD_PDF[: len(GOOD_PDF) // 2], "corrupt or truncated PDF"),
    "encrypted.pdf": (encrypt_pdf(GOOD_PDF, "secret"), "PDF is encrypted (password protected)"),
    "scanned.pdf": (make_pdf([[], []]), "no extractable text — scanned?"),
    "photo renamed.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "NUL bytes"),
    "mixed-encodings.txt": ("Budget for 2024: ".encode() + "café £5".encode("latin-1") + " – ok".encode(), "not valid UTF-8 text (byte 0xe9 at offset 20)"),
    "nul.md": (b"# Notes\n\nThe board\x00meets termly.\n", "contains NUL bytes"),
    "slides.pptx": (b"PK\x03\x04 not supported", "corrupt or truncated PowerPoint file"),
}
GOOD_NEW = {
    "governors notes — Ealing ü 文档.md": "# Governors notes\n\nThe Ealing governors forum meets in the Town Hall every half term.\n",
    "nested fragments.md": "<div><p>" * 300 + "Clerks circulate papers a week before each meeting." + "</p></div>" * 300,
}


def test_a_folder_of_nasty_files_is_ingested_in_one_run(tmp_path, embeddings, monkeypatch):
    folder = tmp_path / "docs with spaces"
    folder.mkdir()
    for name in (EDITED, KEPT, "metadata.yaml"):
        shutil.copy(CORPUS / name, folder / name)
    settings = Settings(data_dir=tmp_path / "data")
    store = ChunkStore(settings, embeddings)
    assert pipeline.ingest_paths([folder], settings, store).failed == []
    before = store.ids_by_source()

    for name, (data, _) in NASTY.items():
        (folder / name).write_bytes(data)
    with (folder / "huge.txt").open("wb") as fh:
        fh.truncate(200 * 1024 * 1024)  # sparse: 200 MB on paper, no disk or time spent
    for name, text in GOOD_NEW.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / KEPT).write_bytes(b"\xff\xfe broken by a bad save \x00")  # an indexed file that breaks
    hashed: list[str] = []
    real_hash = pipeline.file_sha256
    monkeypatch.setattr(pipeline, "file_sha256", lambda path: hashed.append(path.name) or real_hash(path))

    report = pipeline.ingest_paths([folder], settings, store)

    errors = {f["source"]: f["error"] for f in report.failed}
    expected = {name: words for name, (_, words) in NASTY.items()} | {
        "huge.txt": "larger than the 50 MB limit (200.0 MB)", KEPT: "NUL bytes"}
    assert set(errors) == set(expected)
    for name, words in expected.items():
        assert words in errors[name], (name, errors[name])
    assert "huge.txt" not in hashed, "the oversize file must be refused from its size, before reading it"
    assert report.added == len(GOOD_NEW) and report.unchanged == 1
    after = store.ids_by_source()
    assert after[KEPT] == before[KEPT] and after[EDITED] == before[EDITED], "nothing already indexed is lost"
    assert set(after) == set(before) | set(GOOD_NEW)
    texts = " ".join(doc.page_content for _, doc in store.all_chunks())
    assert "Town Hall every half term" in texts and "Clerks circulate papers" in texts


def test_the_size_limit_is_configurable(tmp_path, embeddings, monkeypatch):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "long.md").write_text("# Minutes\n\n" + "The board met and agreed the plan. " * 40_000, encoding="utf-8")
    monkeypatch.setenv("PARTNERSHIP_MAX_FILE_MB", "1")
    settings = Settings(data_dir=tmp_path / "data")
    report = pipeline.ingest_paths([folder], settings, ChunkStore(settings, embeddings))
    assert report.failed == [{"source": "long.md", "error": "file is larger than the 1 MB limit (1.3 MB)"}]


@pytest.mark.parametrize("follow", [False, True])
def test_symlinks_that_leave_the_folder_are_followed_only_when_asked(tmp_path, embeddings, follow):
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "salaries.md").write_text("# Salaries\n\nThe head's salary is confidential.\n", encoding="utf-8")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notes.md").write_text("# Notes\n\nThe board meets termly.\n", encoding="utf-8")
    (folder / "salaries.md").symlink_to(outside / "salaries.md")
    (folder / "minutes.md").write_text("# Minutes\n\nThe budget was agreed.\n", encoding="utf-8")
    (folder / "latest").mkdir()
    (folder / "latest" / "minutes.md").symlink_to(folder / "minutes.md")  # stays inside; the same file: once
    settings = Settings(data_dir=tmp_path / "data")
    store = ChunkStore(settings, embeddings)
    report = pipeline.ingest_paths([folder], settings, store, follow_symlinks=follow)
    indexed = set(store.ids_by_source())
    assert report.added == len(indexed) and store.raw_count() == len(indexed), "each file indexed once"
    if follow:
        assert report.failed == [] and indexed == {"notes.md", "minutes.md", "salaries.md"}
    else:
        assert indexed == {"notes.md", "minutes.md"}
        (failure,) = report.failed
        assert failure["source"].endswith("salaries.md")
        assert failure["error"] == "symlink points outside the folder; not followed (use --follow-symlinks)"


def test_a_document_moved_to_another_folder_keeps_its_chunks(tmp_path, embeddings):
    """Same file name, new folder, old folder gone: the old path's removal must not delete the chunks the
    new path now owns (chunk ids hash the name, not the folder)."""
    old = tmp_path / "2024"
    old.mkdir()
    shutil.copy(CORPUS / KEPT, old / KEPT)
    settings = Settings(data_dir=tmp_path / "data")
    store = ChunkStore(settings, embeddings)
    pipeline.ingest_paths([old], settings, store)
    before = store.ids_by_source()
    new = tmp_path / "2025"
    old.rename(new)
    report = pipeline.ingest_paths([new], settings, store)
    assert (report.updated, report.removed, report.failed) == (1, 0, [])
    assert store.ids_by_source() == before
    assert {d.metadata["source"] for _, d in store.all_chunks()} == {KEPT}
    assert pipeline.ingest_paths([new], settings, store).unchanged == 1
