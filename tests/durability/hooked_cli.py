"""Runs the real `partnership` CLI with kill and pause points, for the crash and concurrency tests.

    python hooked_cli.py ingest DOCS --json

CRASH_AT="<point>:<n>" SIGKILLs this process at the n-th time <point> is reached (nothing is cleaned up,
exactly like a power cut or the OOM killer). PAUSE_AT="<point>:<n>,..." instead writes
$PAUSE_DIR/<point>-<n>.ready and waits (bounded) for $PAUSE_DIR/<point>-<n>.go, so a test can look at the
store or start a second process at that exact moment. ENOSPC_AT="<point>:<n>" raises
OSError(ENOSPC) there instead, as a full disk would. Points (production code is only wrapped, not changed):

    upsert    entering ChunkStore.upsert: before any vector of a file is written (the pipeline's window is
              lowered to one file, so each point is per file)
    batch     after a write of chunk vectors to Chroma (UPSERT_BATCH is lowered to 4, so files take several)
    parts     after a write of part vectors (a batch's parts are written just before its chunks)
    commit    entering ChunkStore.commit_many: all of a file's vectors written, not yet visible
    save      entering Manifest.save (the 1st call is the reconcile at start, then one per file)
    replace   os.replace of the manifest temp file: the new manifest is written and fsynced, not renamed
    delete    entering ChunkStore.delete with ids (stale chunks of an edited file, a removed file's chunks)
    uncommit  after ChunkStore.uncommit with sources (a removed file hidden, its chunks not yet deleted)
"""
from __future__ import annotations

import errno
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import assistant.store as store_module  # noqa: E402
import ingest.pipeline as pipeline_module  # noqa: E402
from chromadb.api.models.Collection import Collection  # noqa: E402
from ingest.manifest import TEMP_PREFIX, Manifest  # noqa: E402

PAUSE_SECONDS = 300


def _parse(value: str) -> set[tuple[str, int]]:
    points = set()
    for item in filter(None, (v.strip() for v in value.split(","))):
        name, _, nth = item.partition(":")
        points.add((name, int(nth or 1)))
    return points


CRASH = _parse(os.environ.get("CRASH_AT", ""))
PAUSE = _parse(os.environ.get("PAUSE_AT", ""))
ENOSPC = _parse(os.environ.get("ENOSPC_AT", ""))
PAUSE_DIR = Path(os.environ.get("PAUSE_DIR", "."))
calls: dict[str, int] = {}


def reached(point: str) -> None:
    calls[point] = calls.get(point, 0) + 1
    key = (point, calls[point])
    if key in CRASH:
        os.kill(os.getpid(), signal.SIGKILL)
    if key in ENOSPC:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if key in PAUSE:
        stem = PAUSE_DIR / f"{point}-{calls[point]}"
        stem.with_suffix(".ready").touch()
        deadline = time.monotonic() + PAUSE_SECONDS
        while not stem.with_suffix(".go").exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def wrap(owner, attr: str, point: str, *, after: bool = False, only_if_args: bool = False) -> None:
    real = getattr(owner, attr)

    def hooked(*args, **kwargs):
        counts = True
        if only_if_args:
            args = (args[0], list(args[1]), *args[2:])  # materialise: the real method gets the same items
            counts = bool(args[1])
        if counts and not after:
            reached(point)
        result = real(*args, **kwargs)
        if counts and after:
            reached(point)
        return result

    setattr(owner, attr, hooked)


store_module.UPSERT_BATCH = 4
pipeline_module.WINDOW_FILES = 1  # one file per window, so every point below is reached once per file
ChunkStore = store_module.ChunkStore
wrap(ChunkStore, "upsert", "upsert")
wrap(ChunkStore, "commit_many", "commit")
wrap(ChunkStore, "delete", "delete", only_if_args=True)
wrap(ChunkStore, "uncommit", "uncommit", after=True, only_if_args=True)
wrap(Manifest, "save", "save")

_real_collection_upsert = Collection.upsert


def _collection_upsert(self, *args, **kwargs):
    result = _real_collection_upsert(self, *args, **kwargs)
    if self.name.endswith("-parts"):
        reached("parts")
    elif not self.name.endswith("-commits"):
        reached("batch")
    return result


Collection.upsert = _collection_upsert

_real_replace = os.replace


def _replace(src, dst, *args, **kwargs):
    if Path(src).name.startswith(TEMP_PREFIX):
        reached("replace")
    return _real_replace(src, dst, *args, **kwargs)


os.replace = _replace

if __name__ == "__main__":
    from integrations.cli.app import app

    app(args=sys.argv[1:], prog_name="partnership")
