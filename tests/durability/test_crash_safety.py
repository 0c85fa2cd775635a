"""SIGKILL `partnership ingest` at chosen points, run it again, and get exactly a clean build.

Each killed run is a real subprocess killed by a real SIGKILL (hooked_cli.py kills itself at the n-th time
a point is reached; production code only gets wrapped). Kills are chained on one data dir, so every run
also has to reconcile the damage the previous one left. After every kill, what queries can see must be,
document by document, exactly the previous or the new version; after the final run, the store must equal
a clean build: same ids, texts and metadata, and nothing else (no duplicates, orphans or stale chunks).
"""
from __future__ import annotations

import json
import signal

from assistant.config import Settings
from ingest.manifest import TEMP_PREFIX, Manifest
from tests.durability.conftest import (
    ADDED, EDITED, REMOVED, Snapshot, cli_env, run_cli, snapshot, start_cli, wait_for, write_version,
)


def kill_at(point: str, folder, env) -> None:
    result = run_cli(["ingest", str(folder), "--json"], dict(env, CRASH_AT=point), hooked=True)
    assert result.returncode == -signal.SIGKILL, f"{point} was never reached: rc {result.returncode}\n{result.stderr[-3000:]}"


def assert_each_document_is_one_version(current: Snapshot, refs: dict[int, Snapshot]) -> None:
    """Every visible document is exactly its old or its new version, and its chunks really exist."""
    old, new = refs[1].visible_by_source(), refs[2].visible_by_source()
    for source, chunks in current.visible_by_source().items():
        assert chunks in (old.get(source), new.get(source)), f"{source}: a mix of versions or a partial document is visible"
        assert set(chunks) <= current.raw[source]


def assert_equals_clean_build(current: Snapshot, reference: Snapshot, settings: Settings) -> None:
    assert current.visible == reference.visible
    assert current.raw == reference.raw, "orphan, stale or missing chunks in the index"
    assert sum(map(len, current.raw.values())) == len(reference.visible), "duplicates"
    assert current.parts_of == set(current.visible), "every chunk has its parts, and no part outlives its chunk"
    mirror = Manifest.load(settings.manifest_path)
    assert {e.source: set(e.chunk_ids) for e in mirror.files.values()} == reference.raw
    assert not list(settings.data_dir.glob(f"{TEMP_PREFIX}*")), "a temp manifest was left behind"


def test_killed_ingests_converge_on_a_clean_build(tmp_path, embeddings, references):
    folder = write_version(tmp_path / "docs", 1)
    settings = Settings(data_dir=tmp_path / "data")
    env = cli_env(settings.data_dir)

    # First ingest into an empty store, killed twice.
    kill_at("upsert:2", folder, env)  # 1st file committed; killed before any vector of the 2nd
    state = snapshot(settings, embeddings)
    assert set(state.visible_by_source()) == {EDITED}
    assert_each_document_is_one_version(state, references)
    kill_at("save:3", folder, env)  # 2nd and 3rd files committed; killed before the manifest records the 3rd
    assert_each_document_is_one_version(snapshot(settings, embeddings), references)
    clean = run_cli(["ingest", str(folder), "--json"], env)
    assert clean.returncode == 0, clean.stderr
    assert_equals_clean_build(snapshot(settings, embeddings), references[1], settings)

    # The folder changes (a file edited near its top, one removed, one added); the update is killed four times.
    write_version(folder, 2)
    kill_at("batch:2", folder, env)  # added file committed; edited file killed after its first 4 new vectors
    state = snapshot(settings, embeddings)
    assert state.visible_by_source()[EDITED] == references[1].visible_by_source()[EDITED]
    assert len(state.raw[EDITED]) > len(references[1].raw[EDITED]), "the kill should leave uncommitted chunks"
    assert_each_document_is_one_version(state, references)

    kill_at("parts:2", folder, env)  # the parts of the edited file's first batch written, its chunks not yet
    assert_each_document_is_one_version(snapshot(settings, embeddings), references)

    kill_at("commit:1", folder, env)  # every new vector of the edited file written, not committed
    state = snapshot(settings, embeddings)
    assert state.visible_by_source()[EDITED] == references[1].visible_by_source()[EDITED]
    assert state.raw[EDITED] >= references[1].raw[EDITED] | references[2].raw[EDITED]

    kill_at("replace:2", folder, env)  # committed; killed in the middle of writing the manifest
    state = snapshot(settings, embeddings)
    assert state.visible_by_source()[EDITED] == references[2].visible_by_source()[EDITED]
    assert state.raw[EDITED] > references[2].raw[EDITED], "old chunks not deleted yet"
    assert list(settings.data_dir.glob(f"{TEMP_PREFIX}*.tmp")), "the kill should leave the temp manifest"
    assert_each_document_is_one_version(state, references)

    kill_at("uncommit:1", folder, env)  # removed file hidden from queries; killed before its chunks go
    state = snapshot(settings, embeddings)
    assert REMOVED not in state.visible_by_source() and state.raw[REMOVED]
    assert_each_document_is_one_version(state, references)

    final = run_cli(["ingest", str(folder), "--json"], env)
    assert final.returncode == 0, final.stderr
    report = json.loads(final.stdout)
    assert report["failed"] == [] and report["chunks"] == len(references[2].visible)
    assert_equals_clean_build(snapshot(settings, embeddings), references[2], settings)
    assert ADDED in references[2].raw and REMOVED not in references[2].raw


def test_ctrl_c_mid_ingest_is_a_message_and_the_next_run_finishes(tmp_path, embeddings, references, processes):
    folder = write_version(tmp_path / "docs", 1)
    settings = Settings(data_dir=tmp_path / "data")
    pauses = tmp_path / "pauses"
    pauses.mkdir()
    env = cli_env(settings.data_dir)
    ingest = start_cli(["ingest", str(folder)], dict(env, PAUSE_AT="batch:2", PAUSE_DIR=str(pauses)))
    processes.append(ingest)
    wait_for(pauses / "batch-2.ready", ingest)
    ingest.send_signal(signal.SIGINT)
    out, err = ingest.communicate(timeout=120)
    assert ingest.returncode == 130, err
    assert "interrupted; the index is consistent" in err.replace("\n", " ") and "Traceback" not in err
    assert_each_document_is_one_version(snapshot(settings, embeddings), references)
    again = run_cli(["ingest", str(folder), "--json"], env)
    assert again.returncode == 0, again.stderr
    assert_equals_clean_build(snapshot(settings, embeddings), references[1], settings)


