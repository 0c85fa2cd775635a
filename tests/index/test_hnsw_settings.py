"""HNSW settings of the store (assistant/store.py): new collections get Settings.hnsw_m neighbours, an
existing collection keeps the M it was built with, and ef_search follows the collection's size each time a
store opens it (Chroma keeps it in the collection's configuration, so every process sees it)."""
from __future__ import annotations

import numpy as np
import pytest

from assistant import store as store_module
from assistant.config import Settings
from assistant.store import ChunkStore, search_ef


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


@pytest.mark.parametrize("asked", [3, 500])
def test_a_query_asks_for_no_more_than_the_collection_holds(tmp_path, asked):
    store = ChunkStore(Settings(data_dir=tmp_path), embeddings=None)
    _add(store, 20)
    assert len(store.query(np.ones(8, dtype=np.float32).tolist(), asked)) == min(asked, 20)
    assert store.query_parts(np.ones(8, dtype=np.float32).tolist(), asked) == [], "no parts stored"
