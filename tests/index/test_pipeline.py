"""Incremental, idempotent, damage-free ingestion against a real Chroma on disk."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.store import ChunkStore
from ingest.lock import IngestLockedError, ingest_lock
from ingest.manifest import Manifest
from ingest.pipeline import chunk_id, ingest_paths
from tests.support.paths import CORPUS

SMALL = ["ealing-elp-qa-briefings-2017-11.txt", "hillingdon-hlp-invitation-to-join.txt"]


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "docs"
    target.mkdir()
    for name in SMALL:
        shutil.copy(CORPUS / name, target / name)
    shutil.copy(CORPUS / "metadata.yaml", target / "metadata.yaml")
    return target


@pytest.fixture
def setup(tmp_path, embeddings):
    settings = Settings(data_dir=tmp_path / "data")
    return settings, ChunkStore(settings, embeddings)


def ids_of(store: ChunkStore) -> dict[str, set[str]]:
    return store.ids_by_source()


def test_ingest_twice_gives_same_ids_and_count(folder, setup):
    settings, store = setup
    first = ingest_paths([folder], settings, store)
    assert (first.added, first.unchanged, first.failed) == (2, 0, [])
    before = ids_of(store)
    second = ingest_paths([folder], settings, store)
    assert (second.added, second.updated, second.unchanged, second.removed) == (0, 0, 2, 0)
    assert ids_of(store) == before
    assert second.chunks == first.chunks == store.count()


def test_metadata_file_is_not_ingested_and_every_chunk_has_the_contract_fields(folder, setup):
    settings, store = setup
    ingest_paths([folder], settings, store)
    assert set(ids_of(store)) == set(SMALL)
    for _, doc in store.all_chunks():
        assert {"source", "title", "partnership", "kind", "section", "page", "chunk_index"} <= set(doc.metadata)
    kinds = {d.metadata["source"]: d.metadata["kind"] for _, d in store.all_chunks()}
    assert kinds == {SMALL[0]: "qa_sheet", SMALL[1]: "letter"}


def test_editing_a_file_replaces_only_its_chunks(folder, setup):
    settings, store = setup
    ingest_paths([folder], settings, store)
    before = ids_of(store)
    edited = folder / SMALL[1]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n\nQ: Is there a newsletter?\n\nA: Yes, every half term.\n", encoding="utf-8")
    report = ingest_paths([folder], settings, store)
    assert (report.updated, report.unchanged) == (1, 1)
    after = ids_of(store)
    assert after[SMALL[0]] == before[SMALL[0]]
    assert after[SMALL[1]] != before[SMALL[1]]
    assert any("newsletter" in d.page_content for _, d in store.all_chunks())
    assert store.count() == sum(len(v) for v in after.values())


def test_deleting_a_file_removes_its_chunks(folder, setup):
    settings, store = setup
    ingest_paths([folder], settings, store)
    (folder / SMALL[1]).unlink()
    report = ingest_paths([folder], settings, store)
    assert report.removed == 1
    assert set(ids_of(store)) == {SMALL[0]}
    assert str((folder / SMALL[1]).resolve()) not in Manifest.load(settings.manifest_path).files


def test_a_file_that_breaks_keeps_its_previous_chunks_and_others_still_index(folder, setup):
    settings, store = setup
    ingest_paths([folder], settings, store)
    before = ids_of(store)
    (folder / SMALL[0]).write_bytes(b"\xff\xfe\x00binary\x00junk" * 10)
    (folder / "new.md").write_text("# Notes\n\nThe partnership meets termly in the Civic Centre.\n", encoding="utf-8")
    report = ingest_paths([folder], settings, store)
    assert [f["source"] for f in report.failed] == [SMALL[0]]
    assert report.added == 1
    after = ids_of(store)
    assert after[SMALL[0]] == before[SMALL[0]], "a broken edit must not lose what was indexed"
    assert "new.md" in after


def test_files_without_metadata_get_a_title_from_their_name(folder, setup):
    settings, store = setup
    (folder / "governors-briefing-notes.md").write_text("Governors met in May. They agreed the budget.\n", encoding="utf-8")
    ingest_paths([folder / "governors-briefing-notes.md"], settings, store)
    (doc,) = [d for _, d in store.all_chunks()]
    assert doc.metadata["kind"] == "document"
    assert "governors" in doc.metadata["title"].lower()


def test_missing_path_and_unsupported_type_are_reported_not_fatal(folder, setup, tmp_path):
    settings, store = setup
    (folder / "budget.xlsx").write_bytes(b"PK\x03\x04 not really")
    report = ingest_paths([folder, tmp_path / "nope"], settings, store)
    errors = {f["source"]: f["error"] for f in report.failed}
    assert "budget.xlsx" in errors and "unsupported" in errors["budget.xlsx"]
    assert any("no such file" in e for e in errors.values())
    assert report.added == 2


def test_rebuild_starts_clean(folder, setup):
    settings, store = setup
    ingest_paths([folder], settings, store)
    before = ids_of(store)
    report = ingest_paths([folder], settings, store, rebuild=True)
    assert report.added == 2 and report.unchanged == 0
    assert ids_of(store) == before


def test_reconcile_drops_chunks_that_were_never_committed(folder, setup):
    """A crash after upserting but before the manifest write leaves chunks no manifest records."""
    settings, store = setup
    ingest_paths([folder], settings, store)
    from langchain_core.documents import Document

    orphan = Document(page_content="half-written", metadata={"source": "ghost.txt", "chunk_index": 0})
    store.upsert([chunk_id("ghost.txt", 0, "half-written")], [orphan])
    entry = next(iter(Manifest.load(settings.manifest_path).files.values()))
    store.delete(entry.chunk_ids[:1])  # and a recorded file that lost a chunk
    report = ingest_paths([folder], settings, store)
    assert "ghost.txt" not in ids_of(store)
    assert report.updated == 1 and report.unchanged == 1
    clean = Settings(data_dir=settings.data_dir.parent / "clean")
    clean_store = ChunkStore(clean, store.embeddings)
    ingest_paths([folder], clean, clean_store)
    assert ids_of(store) == ids_of(clean_store)


def test_a_second_ingest_is_refused_while_one_runs(folder, setup):
    settings, store = setup
    with ingest_lock(settings.data_dir):
        with pytest.raises(IngestLockedError, match="Another ingest is running"):
            ingest_paths([folder], settings, store)


def test_a_running_assistant_sees_every_re_ingest_even_an_edit_that_keeps_the_chunk_count(folder, setup, embeddings):
    from assistant.factory import build_assistant

    settings, store = setup
    ingest_paths([folder], settings, store)
    assistant = build_assistant(settings, embeddings=embeddings)  # a long-running process (serve, slack)
    letter = folder / SMALL[1]
    original = letter.read_text(encoding="utf-8")
    assert "Invitation to join" in original and "zebrafish" not in assistant.retriever.lexical().vocabulary
    letter.write_text(original.replace("Invitation to join", "Invitation to join zebrafish", 1), encoding="utf-8")  # one word: same chunks
    before = store.marker()
    assert ingest_paths([folder], settings, store).updated == 1
    assert store.marker() == before  # nothing a count would notice
    assert "zebrafish" in assistant.retriever.lexical().vocabulary
    letter.unlink()
    ingest_paths([folder], settings, store)
    assert {d.metadata["source"] for d in assistant.retriever.lexical().docs.values()} == {SMALL[0]}


def test_chunks_an_ingest_has_not_committed_leave_a_running_assistants_snapshot_alone(folder, setup, embeddings, monkeypatch):
    """Readers see committed chunks only, so chunks stored by an ingest still running (or killed before its
    commit) must not make every question rebuild the BM25 snapshot; the commit must."""
    from assistant.factory import build_assistant

    settings, store = setup
    ingest_paths([folder], settings, store)
    assistant = build_assistant(settings, embeddings=embeddings)
    snapshot = assistant.retriever.lexical()
    (folder / "new-offer.txt").write_text("Invoices for the zebrafish subscription go out in October.\n", encoding="utf-8")

    def killed(self, records):
        raise RuntimeError("ingest killed before its commit")

    monkeypatch.setattr(ChunkStore, "commit_many", killed)
    with pytest.raises(RuntimeError):
        ingest_paths([folder], settings, store)
    committed, stored = store.marker()
    assert stored > sum(len(r.chunk_ids) for r in store.committed().values()), "chunks stored, not committed"
    assert assistant.retriever.lexical() is snapshot
    monkeypatch.undo()
    ingest_paths([folder], settings, store)
    assert assistant.retriever.lexical() is not snapshot
    assert "zebrafish" in assistant.retriever.lexical().vocabulary


def test_ingest_embeds_chunks_and_their_parts_in_one_call_each_text_once(folder, setup, embeddings, monkeypatch):
    """Chunks are long and parts short: one call sorts them together (least padding), and a sentence that
    occurs in two chunks is embedded once. Every stored vector is still its own text's vector."""
    import numpy as np

    settings, store = setup
    calls: list[list[str]] = []
    real = type(embeddings).embed_documents
    monkeypatch.setattr(type(embeddings), "embed_documents", lambda self, texts: calls.append(list(texts)) or real(self, texts))
    shared = "Schools in the partnership pay a fee that is set each year by the board of headteachers."
    for name in ("copy-one.txt", "copy-two.txt"):  # the same text in two files: two chunks, one vector to make
        (folder / name).write_text(shared + "\n", encoding="utf-8")
    ingest_paths([folder], settings, store)
    assert len(calls) == 1, "chunks and parts of one window are embedded in one model call"
    assert len(calls[0]) == len(set(calls[0])), "each distinct text once"
    chunks = store.collection.get(include=["documents", "embeddings"])
    parts = store.parts.get(include=["documents", "embeddings"])
    assert set(chunks["documents"]) | set(parts["documents"]) == set(calls[0])
    assert chunks["documents"].count(shared) == 2 and calls[0].count(shared) == 1, "both chunks stored, embedded once"
    for texts, vectors in ((chunks["documents"], chunks["embeddings"]), (parts["documents"], parts["embeddings"])):
        assert np.allclose(np.asarray(vectors), real(embeddings, texts), atol=1e-5)
