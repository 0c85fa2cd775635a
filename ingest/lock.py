"""One ingest at a time per data dir: an exclusive lock file (released by the OS if the process dies)."""
from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from assistant.errors import AssistantError


class IngestLockedError(AssistantError):
    """Another ingest holds the lock."""


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
