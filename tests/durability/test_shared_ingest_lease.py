"""Two machines ingesting into one Chroma server are kept apart by a lease held in the store.

The "machines" are two real `partnership ingest` processes with different data dirs (so neither sees the
other's file lock), pointed at one real `chroma run`. The lease is shortened with
PARTNERSHIP_INGEST_LEASE_SECONDS so that expiry, renewal and take-over happen within seconds.
"""
from __future__ import annotations

import json
import re
import signal
import threading
import time

import pytest

from assistant.store import ChunkStore
from ingest.lock import LEASE_ID, IngestLockedError, StoreLease
from ingest.pipeline import ingest_paths
from tests.durability.conftest import cli_env, run_cli, snapshot, start_cli, wait_for, write_version
from tests.durability.test_crash_safety import assert_each_document_is_one_version, assert_equals_clean_build

LEASE_SECONDS = 6.0


def lease_record(store: ChunkStore) -> dict | None:
    got = store.client.get_or_create_collection(f"{store.settings.collection}-lease").get(ids=[LEASE_ID])
    return (got["metadatas"] or [None])[0]


def test_a_second_machine_is_refused_until_the_killed_holders_lease_expires(
    tmp_path, embeddings, references, chroma_server, processes,
):
    folder = write_version(tmp_path / "docs", 1)
    machine_a, machine_b = tmp_path / "machine-a", tmp_path / "machine-b"
    server = {"PARTNERSHIP_CHROMA_HOST": "127.0.0.1", "PARTNERSHIP_CHROMA_PORT": str(chroma_server.port),
              "PARTNERSHIP_INGEST_LEASE_SECONDS": str(LEASE_SECONDS), "COLUMNS": "500"}  # COLUMNS: no wrapping
    pauses = tmp_path / "pauses"
    pauses.mkdir()
    # A: one document committed, the second one's vectors all written but not committed, when it pauses.
    holder = start_cli(["ingest", str(folder), "--json"],
                       cli_env(machine_a, PAUSE_AT="commit:2", PAUSE_DIR=str(pauses), **server))
    processes.append(holder)
    wait_for(pauses / "commit-2.ready", holder)
    time.sleep(LEASE_SECONDS * 1.5)  # longer than one lease: only renewal can keep it

    refused = run_cli(["ingest", str(folder), "--json"], cli_env(machine_b, **server))
    assert refused.returncode == 2, refused.stderr
    message = refused.stderr
    assert f"Another ingest is running on the Chroma server at 127.0.0.1:{chroma_server.port}" in message
    assert f"pid {holder.pid} (data dir {machine_a}" in message, message  # the holder, named
    expiry = re.search(r"its lease expires at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC) \(in (\d+) s\)", message)
    assert expiry and 0 < int(expiry.group(2)) <= LEASE_SECONDS, message
    assert "Traceback" not in message and refused.stdout == ""
    assert not (machine_b / "manifest.json").exists(), "refused before touching the index"

    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    b = chroma_server.settings(machine_b).model_copy(update={"ingest_lease_seconds": LEASE_SECONDS})
    store = ChunkStore(b, embeddings)
    record = lease_record(store)
    assert record and f"pid {holder.pid}" in record["holder"], "a SIGKILL releases nothing"
    if time.time() < record["expires_at"] - 1:  # the dead holder's lease still runs: no take-over yet
        with pytest.raises(IngestLockedError, match=f"pid {holder.pid}"):
            ingest_paths([folder], b, store)
    assert_each_document_is_one_version(snapshot(b, embeddings), references)

    time.sleep(max(0.0, record["expires_at"] - time.time()) + 0.5)
    taken_over = run_cli(["ingest", str(folder), "--json"], cli_env(machine_b, **server))
    assert taken_over.returncode == 0, taken_over.stderr
    report = json.loads(taken_over.stdout)
    assert report["failed"] == [] and report["chunks"] == len(references[1].visible)
    # Complete, no duplicates, no orphans: the uncommitted vectors A left behind were reconciled away.
    assert_equals_clean_build(snapshot(b, embeddings), references[1], b)
    assert lease_record(store) is None, "a finished ingest releases its lease"


def test_racing_ingests_get_exactly_one_lease_and_a_lost_lease_stops_the_commit(tmp_path, embeddings, chroma_server):
    settings = chroma_server.settings(tmp_path / "data").model_copy(update={"ingest_lease_seconds": 30.0})
    store = ChunkStore(settings, None)

    def race(clock=time.time) -> list[StoreLease]:
        leases = [StoreLease(ChunkStore(settings, None).client, settings, clock=clock) for _ in range(8)]
        won: list[StoreLease] = []
        start = threading.Barrier(len(leases))

        def take(lease: StoreLease) -> None:
            start.wait()
            try:
                lease.acquire()
                won.append(lease)
            except IngestLockedError:
                pass

        threads = [threading.Thread(target=take, args=(lease,)) for lease in leases]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        return won

    first = race()
    assert len(first) == 1, "exactly one of eight simultaneous ingests holds the lease"
    assert lease_record(store)["token"] == first[0].token

    # The holder stops renewing (as if killed); once its lease has expired, eight ingests race to take over.
    later = lambda: time.time() + 31  # noqa: E731 - a clock past the expiry
    second = race(clock=later)
    assert len(second) == 1 and second[0].token != first[0].token
    assert lease_record(store)["token"] == second[0].token

    # The old holder wakes up: it may not renew, and it stops before its next commit.
    assert first[0].renew() is False
    with pytest.raises(IngestLockedError, match="no longer holds the ingest lease .*taken over by"):
        first[0].check()
    first[0].release()
    assert lease_record(store)["token"] == second[0].token, "releasing a lost lease never deletes the new holder's"
    second[0].release()
    assert lease_record(store) is None
