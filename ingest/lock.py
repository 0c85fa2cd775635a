"""One ingest at a time: per data dir (an OS file lock) and, with a Chroma server, per store (a lease).

The file lock in the data dir is released by the OS when its process dies, but only processes on this
machine see it. Ingests on several machines sharing one Chroma server are kept apart by a lease held in
the store itself: one record, under a fixed id in the "<collection>-lease" collection, naming its holder
(host, pid, data dir), when it started and when it expires. The holder renews it every third of
PARTNERSHIP_INGEST_LEASE_SECONDS while it runs; a killed holder stops renewing, and once its lease has
expired the next ingest takes it over (and its reconcile repairs whatever the killed one left).

Chroma has no compare-and-swap, but two of its operations are enough to make taking the lease race-safe:
`add` never overwrites (a second add under an id that exists is ignored), and `delete(ids, where)` deletes
only if the metadata still matches. So an ingest (1) reads the record and is refused if another holder's
lease has not expired; (2) deletes it only if it still carries the expired holder's token, so it can never
delete a lease that a faster rival has just taken; (3) adds its own record, which only one of several
racing ingests can do; (4) reads the record back and goes on only if it carries its own token.

What remains, and is documented in the README: expiry is judged by wall clocks, so hosts whose clocks
disagree by more than the lease shorten it (keep them in NTP sync); and renewal is read-then-update, so a
holder stalled for longer than its lease (between the read and the update) could overwrite a lease taken
over meanwhile. The holder checks its lease before each commit and stops if it was lost, and a lease that
can no longer be renewed counts as lost; even if two ingests did overlap, the next one converges on a
clean index, as after a crash (ingest/pipeline.py).
"""
from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from assistant.config import Settings
from assistant.errors import AssistantError

log = logging.getLogger(__name__)

LEASE_ID = "ingest"
_NO_VECTOR = [0.0]  # the lease is looked up by id only; Chroma still wants a vector per record


class IngestLockedError(AssistantError):
    """Another ingest holds the lock, or this ingest lost its lease."""


@contextmanager
def ingest_lock(data_dir: Path, wait_seconds: float = 0.0):
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "ingest.lock"
    fh = open(path, "a+")
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "another process"
                    raise IngestLockedError(
                        f"Another ingest is running on {data_dir} (pid {holder}); wait for it to finish."
                    ) from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fh.close()


class LocalOnly:
    """The embedded store: the data dir's file lock is the whole story, nothing can be lost mid-way."""

    def check(self) -> None:
        pass


@dataclass(frozen=True)
class LeaseRecord:
    token: str
    holder: str
    started_at: float
    expires_at: float

    def to_metadata(self) -> dict:
        return {"token": self.token, "holder": self.holder, "started_at": self.started_at, "expires_at": self.expires_at}


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


class StoreLease:
    """The ingest lease on a shared Chroma store.

    Args:
        client: the Chroma client of the store (`ChunkStore.client`).
        settings: collection name, server address, data dir and `ingest_lease_seconds`.
        clock: wall-clock seconds; the lease's times are compared across hosts.
    """

    def __init__(self, client, settings: Settings, clock: Callable[[], float] = time.time):
        self.settings, self.clock = settings, clock
        self.duration = settings.ingest_lease_seconds
        self.where = f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}"
        self.collection = client.get_or_create_collection(f"{settings.collection}-lease", embedding_function=None)
        self.token = uuid.uuid4().hex
        self.holder = f"{socket.gethostname()} pid {os.getpid()} (data dir {settings.data_dir.resolve()})"
        self.expires_at = self._started_at = 0.0
        self.lost: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _read(self) -> LeaseRecord | None:
        got = self.collection.get(ids=[LEASE_ID], include=["metadatas"])
        if not got["ids"]:
            return None
        meta = (got["metadatas"] or [{}])[0] or {}
        return LeaseRecord(str(meta.get("token", "")), str(meta.get("holder", "an unknown ingest")),
                           float(meta.get("started_at", 0.0)), float(meta.get("expires_at", 0.0)))

    def _refusal(self, record: LeaseRecord) -> IngestLockedError:
        left = max(0.0, record.expires_at - self.clock())
        return IngestLockedError(
            f"Another ingest is running on {self.where} (collection '{self.settings.collection}'): held by "
            f"{record.holder} since {_utc(record.started_at)}; its lease expires at {_utc(record.expires_at)} "
            f"(in {left:.0f} s) unless it is renewed. Wait for it to finish; if it was killed, run ingest again "
            "once the lease has expired."
        )

    def acquire(self) -> None:
        """Take the lease, or raise IngestLockedError naming the holder and when its lease expires."""
        current = self._read()
        now = self.clock()
        if current is not None and current.expires_at > now:
            raise self._refusal(current)
        if current is not None:
            log.warning("taking over the ingest lease of %s, which expired at %s", current.holder, _utc(current.expires_at))
            # Only that expired lease: a rival that took over a moment ago carries another token.
            self.collection.delete(ids=[LEASE_ID], where={"token": current.token})
        mine = LeaseRecord(self.token, self.holder, now, now + self.duration)
        # add never overwrites an existing id: of several racing ingests, exactly one record is stored.
        self.collection.add(ids=[LEASE_ID], embeddings=[_NO_VECTOR], documents=[self.holder],
                            metadatas=[mine.to_metadata()])
        stored = self._read()
        if stored is None or stored.token != self.token:
            raise self._refusal(stored) if stored else IngestLockedError(
                f"Another ingest took the lease on {self.where} at the same moment; wait for it to finish.")
        self.expires_at = mine.expires_at
        self._started_at = now

    def renew(self) -> bool:
        """Extend the lease if it is still ours and unexpired; otherwise record why it was lost."""
        current = self._read()
        now = self.clock()
        if current is None or current.token != self.token:
            self.lost = f"taken over by {current.holder}" if current else "its record was deleted"
            return False
        if now >= self.expires_at:
            self.lost = f"it expired at {_utc(self.expires_at)} before it could be renewed"
            return False
        renewed = LeaseRecord(self.token, self.holder, self._started_at, now + self.duration)
        self.collection.update(ids=[LEASE_ID], metadatas=[renewed.to_metadata()])
        self.expires_at = renewed.expires_at
        return True

    def _keep_renewing(self) -> None:
        while not self._stop.wait(self.duration / 3):
            try:
                if not self.renew():
                    return
            except Exception as exc:  # the server briefly unreachable: try again; check() fails once the lease runs out
                log.warning("could not renew the ingest lease on %s (%s); retrying", self.where, exc)

    def start_renewing(self) -> None:
        self._renewer = threading.Thread(target=self._keep_renewing, name="ingest-lease", daemon=True)
        self._renewer.start()

    def check(self) -> None:
        """Raise IngestLockedError if the lease is lost or has run out (called before each commit)."""
        reason = self.lost or (f"it expired at {_utc(self.expires_at)} without being renewed (was {self.where} "
                               "unreachable?)" if self.clock() >= self.expires_at else None)
        if reason:
            raise IngestLockedError(
                f"Stopped: this ingest no longer holds the ingest lease on {self.where} ({reason}). Every document "
                "is at its previous or new version; run `partnership ingest` again to finish."
            )

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=30)
        try:
            self.collection.delete(ids=[LEASE_ID], where={"token": self.token})  # never another holder's lease
        except Exception as exc:  # server gone: the lease simply expires
            log.warning("could not release the ingest lease on %s (%s); it expires by itself", self.where, exc)


@contextmanager
def exclusive_ingest(settings: Settings, client) -> Iterator[LocalOnly | StoreLease]:
    """Hold the data dir's lock and, when the store is a Chroma server, the store's ingest lease.

    Yields an object whose `check()` raises IngestLockedError once this ingest may no longer write.
    """
    with ingest_lock(settings.data_dir):  # the manifest in the data dir has one writer, in both modes
        if not settings.chroma_host:
            yield LocalOnly()
            return
        lease = StoreLease(client, settings)
        lease.acquire()
        try:
            lease.start_renewing()
            yield lease
        finally:
            lease.release()
