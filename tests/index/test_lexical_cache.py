"""The BM25 index is kept in the data dir per index version (assistant/lexical_cache.py): a restart loads it
instead of tokenising every chunk again, a commit makes a new version, and a damaged or unwritable entry
costs a rebuild, never a wrong or failed index."""
from __future__ import annotations

import logging

import numpy as np
import pytest

from assistant import retrieval
from assistant.config import Settings
from assistant.retrieval import LexicalIndex
from assistant.store import ChunkStore

TEXTS = {
    "a.txt": ["The Hillingdon Learning Partnership (HLP) membership fee is £1,000 for 2021-22.",
              "Lead schools run support sessions half-termly."],
    "b.txt": ["Ealing Learning Partnership clusters meet termly.", "Nursery schools were not consulted fully."],
}


def _commit(store: ChunkStore, source: str, texts: list[str]) -> None:
    ids = [f"{source}-{i}" for i in range(len(texts))]
    vectors = np.random.default_rng(len(source)).standard_normal((len(texts), 8)).tolist()
    store.collection.add(ids=ids, embeddings=vectors, documents=texts,
                         metadatas=[{"source": source, "section": "s", "title": source} for _ in texts])
    store.commit(source, ids, "sha", source)


@pytest.fixture
def store(tmp_path) -> ChunkStore:
    store = ChunkStore(Settings(data_dir=tmp_path / "data"), embeddings=None)
    for source, texts in TEXTS.items():
        _commit(store, source, texts)
    return store


@pytest.fixture
def derivations(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = retrieval.derive

    def counting(chunks):
        calls.append(len(chunks))
        return real(chunks)

    monkeypatch.setattr(retrieval, "derive", counting)
    return calls


def _same(a: LexicalIndex, b: LexicalIndex) -> None:
    assert a.ids == b.ids
    assert (a.vocabulary, a.names, a.periods, a.years) == (b.vocabulary, b.names, b.periods, b.years)
    for question in ("how often do lead schools meet?", "HLP fee 2021-22", "nursery"):
        assert a.search(question, 10) == b.search(question, 10)


def test_a_restart_loads_the_saved_index_instead_of_rebuilding(store, derivations):
    built = LexicalIndex.build(store)
    assert derivations == [4]
    reopened = ChunkStore(store.settings, embeddings=None)  # as a new process would
    loaded = LexicalIndex.build(reopened)
    assert derivations == [4], "the second build derived the texts again"
    _same(built, loaded)
    assert loaded.search("half-termly sessions", 1)[0][0] == "a.txt-1"


def test_a_commit_makes_a_new_version_and_the_old_one_is_removed(store, derivations):
    LexicalIndex.build(store)
    before = {p.name for p in store.settings.lexical_dir.iterdir()}
    _commit(store, "c.txt", ["Camden Learning contact: the director of school improvement."])
    grown = LexicalIndex.build(store)
    assert derivations == [4, 5]
    after = {p.name for p in store.settings.lexical_dir.iterdir()}
    assert len(after) == 1 and after != before
    assert grown.search("Camden director", 1)[0][0] == "c.txt-0"


def test_a_metadata_change_makes_a_new_version(store, derivations):
    """The partnership names come from chunk metadata, which the chunk ids do not hash."""
    before = LexicalIndex.build(store)
    assert "rsp" not in before.names
    store.collection.update(ids=["b.txt-0"], metadatas=[{"source": "b.txt", "section": "s", "title": "b.txt",
                                                         "partnership": "Redbridge Schools Partnership"}])
    after = LexicalIndex.build(ChunkStore(store.settings, embeddings=None))
    assert derivations == [4, 4], "a changed title or partnership was served from the old entry"
    assert after.names["rsp"] == "Redbridge Schools Partnership"


@pytest.mark.parametrize("damage", ["truncate", "remove_matrix", "garbage_json"])
def test_a_damaged_entry_is_rebuilt(store, derivations, caplog, damage):
    built = LexicalIndex.build(store)
    (entry,) = store.settings.lexical_dir.iterdir()
    if damage == "truncate":
        (entry / "derived.json").write_text((entry / "derived.json").read_text()[:20])
    elif damage == "remove_matrix":
        next(entry.glob("data*.npy")).unlink()
    else:
        (entry / "derived.json").write_text('{"size": 4}')
    with caplog.at_level(logging.WARNING, logger="assistant.lexical_cache"):
        rebuilt = LexicalIndex.build(store)
    assert derivations == [4, 4]
    assert "unreadable" in caplog.text
    _same(built, rebuilt)
    assert LexicalIndex.build(store) and derivations == [4, 4], "the rebuilt entry was saved again"


def test_an_unwritable_data_dir_costs_only_the_speed_up(store, derivations, caplog):
    store.settings.lexical_dir.write_text("a file where the folder should be")
    with caplog.at_level(logging.WARNING, logger="assistant.lexical_cache"):
        first = LexicalIndex.build(store)
        second = LexicalIndex.build(store)
    assert derivations == [4, 4]
    assert "could not save the BM25 index" in caplog.text
    _same(first, second)


def test_a_temporary_folder_left_by_a_killed_save_is_not_an_entry(store, derivations):
    LexicalIndex.build(store)
    (entry,) = store.settings.lexical_dir.iterdir()
    (store.settings.lexical_dir / ".tmp-killed").mkdir()
    (store.settings.lexical_dir / ".tmp-killed" / "derived.json").write_text("{")
    LexicalIndex.build(ChunkStore(store.settings, embeddings=None))
    assert derivations == [4], "a leftover temporary folder was taken for the entry"
    assert entry.is_dir()
