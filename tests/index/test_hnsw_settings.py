"""HNSW settings of the store (assistant/store.py): new collections get Settings.hnsw_m neighbours, an
existing collection keeps the M it was built with, and ef_search follows the collection's size: an ingest
sets it for the size it leaves, and a store opening a collection grown otherwise sets it (Chroma keeps it in
the collection's configuration; a process keeps the ef it loaded, so it must be right before others open)."""
from __future__ import annotations

import shutil

import chromadb
import numpy as np
import pytest

from assistant import store as store_module
from assistant.config import Settings
from assistant.store import ChunkStore, search_ef
from ingest.pipeline import ingest_paths
from tests.support.paths import CORPUS


def _hnsw(collection) -> dict:
    return collection.configuration["hnsw"]


def _add(store: ChunkStore, n: int) -> None:
    vectors = np.random.default_rng(0).standard_normal((n, 8)).astype(np.float32)
    store.collection.add(ids=[f"c{i}" for i in range(n)], embeddings=vectors)


def test_new_collections_get_the_configured_neighbours_and_ef(tmp_path):
    settings = Settings(data_dir=tmp_path, hnsw_m=24, hnsw_ef=123)
    store = ChunkStore(settings, embeddings=None)
    for collection in (store.collection, store.parts):
        hnsw = _hnsw(collection)
        assert (hnsw["max_neighbors"], hnsw["ef_construction"], hnsw["ef_search"], hnsw["space"]) == (24, 123, 123, "cosine")


def test_an_existing_collection_keeps_its_neighbours(tmp_path):
    ChunkStore(Settings(data_dir=tmp_path, hnsw_m=16), embeddings=None)
    reopened = ChunkStore(Settings(data_dir=tmp_path, hnsw_m=48), embeddings=None)
    assert _hnsw(reopened.collection)["max_neighbors"] == 16, "M is fixed when a collection is created"


def test_search_ef_is_flat_for_small_collections_and_grows_beyond():
    settings = Settings(hnsw_ef=400)
    flat = store_module.EF_FLAT_UNTIL
    assert search_ef(0, settings) == search_ef(flat, settings) == 400
    bigger = [search_ef(n, settings) for n in (flat * 2, flat * 10, flat * 100)]
    assert 400 < bigger[0] < bigger[1] < bigger[2]


def test_opening_a_grown_collection_raises_its_search_ef(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "EF_FLAT_UNTIL", 10)
    settings = Settings(data_dir=tmp_path, hnsw_ef=50)
    store = ChunkStore(settings, embeddings=None)
    assert _hnsw(store.collection)["ef_search"] == 50
    _add(store, 40)
    reopened = ChunkStore(settings, embeddings=None)
    want = search_ef(40, settings)
    assert want > 50 and _hnsw(reopened.collection)["ef_search"] == want
    assert _hnsw(reopened.parts)["ef_search"] == 50, "the empty parts collection keeps the flat ef"
    got = reopened.query(np.ones(8, dtype=np.float32).tolist(), 5)
    assert len(got) == 5


def test_an_ingest_leaves_the_search_ef_for_the_size_it_grew_to(tmp_path, monkeypatch, embeddings):
    # The ingest opened the collection empty (flat ef); the processes that open it next must not be the
    # ones to raise it, since a process that has counted a collection keeps the ef it loaded then.
    monkeypatch.setattr(store_module, "EF_FLAT_UNTIL", 2)
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("hillingdon-hlp-invitation-to-join.txt", "metadata.yaml"):
        shutil.copy(CORPUS / name, folder / name)
    settings = Settings(data_dir=tmp_path / "data", hnsw_ef=50)
    store = ChunkStore(settings, embeddings)
    assert _hnsw(store.collection)["ef_search"] == 50
    report = ingest_paths([folder], settings, store)
    parts = store.parts.count()
    assert report.chunks > 2 and parts > report.chunks
    # Read as the next process would see it before it counts anything: the stored configuration.
    client = chromadb.PersistentClient(path=str(settings.chroma_dir))
    stored = {c.name: c.configuration["hnsw"]["ef_search"] for c in client.list_collections()}
    assert stored[settings.collection] == search_ef(report.chunks, settings) > 50
    assert stored[f"{settings.collection}-parts"] == search_ef(parts, settings) > stored[settings.collection]


@pytest.mark.parametrize("asked", [3, 500])
def test_a_query_asks_for_no_more_than_the_collection_holds(tmp_path, asked):
    store = ChunkStore(Settings(data_dir=tmp_path), embeddings=None)
    _add(store, 20)
    assert len(store.query(np.ones(8, dtype=np.float32).tolist(), asked)) == min(asked, 20)
    assert store.query_parts(np.ones(8, dtype=np.float32).tolist(), asked) == [], "no parts stored"
