"""The soak's RSS growth was memory malloc held *free* (in use stayed flat): long-running processes cap
malloc's arenas and give free pages back after the big frees. These tests keep those calls in place."""
from __future__ import annotations

import gc
import threading
import weakref

import pytest

from assistant import memory
from assistant import core as core_module
from assistant import retrieval as retrieval_module


def test_trim_and_arena_cap_work_on_glibc():
    # Debian (CI, the deployment image) is glibc: finding it is the point, not a reason to skip.
    assert memory._glibc() is not None, "glibc's malloc_trim/mallopt not found"
    assert isinstance(memory.release_free_memory(), bool)
    thread = memory.start_trimmer(every_s=3600)
    assert thread is not None and thread.daemon and thread.is_alive()
    assert memory.start_trimmer(every_s=3600) is thread  # one per process


@pytest.mark.parametrize("command", ["serve", "slack"])
def test_long_running_commands_set_up_the_allocator_first(monkeypatch, command):
    """Arenas are capped before anything else runs (settings, the model, the server's threads)."""
    from typer.testing import CliRunner

    from integrations.cli.app import app
    from integrations.cli.commands import serve, slack

    class AllocatorSetUp(Exception):
        pass

    def set_up():
        raise AllocatorSetUp

    later = []
    monkeypatch.setattr(memory, "for_long_running_process", set_up)
    for module in (serve, slack):
        monkeypatch.setattr(module, "load_settings", lambda: later.append("settings"))
    result = CliRunner().invoke(app, [command])
    assert isinstance(result.exception, AllocatorSetUp)
    assert later == []


class _Store:
    def __init__(self):
        self.version = 1

    def commit_count(self):
        return self.version

    def committed_since(self, when):
        return False

    def newest_commit(self):
        return 0

    def generation(self):
        return None  # no marker: every question reads the records


def test_index_rebuild_releases_the_old_snapshot_and_trims(monkeypatch):
    built = []

    class Snapshot:
        pass

    def build(store):
        built.append(Snapshot())
        return built[-1]

    trims = []
    monkeypatch.setattr(retrieval_module.LexicalIndex, "build", staticmethod(build))
    monkeypatch.setattr(retrieval_module, "release_free_memory", lambda: trims.append(1))
    store = _Store()
    retriever = retrieval_module.HybridRetriever.model_construct(store=store, query_embedder=None)
    retriever._lock = threading.Lock()
    retriever._lexical, retriever._marker, retriever._built_after = None, -1, 0
    first = weakref.ref(retriever.lexical())
    built.clear()
    store.version = 2  # a re-ingest changed the store
    assert retriever.lexical() is not first()
    gc.collect()
    assert first() is None, "the old index snapshot is still referenced after the swap"
    assert len(trims) == 2


def test_warming_trims_when_done(monkeypatch):
    trims = []
    monkeypatch.setattr(core_module, "release_free_memory", lambda: trims.append(1))
    assistant = core_module.Assistant.__new__(core_module.Assistant)
    assistant.warming = False
    monkeypatch.setattr(core_module.Assistant, "warm_sentences", lambda self, stop=None: 0)
    assistant.warm_sentences_in_background().join(5)
    assert trims == [1] and assistant.warming is False
