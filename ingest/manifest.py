"""The ingest manifest: per-file content hash and the chunk ids it produced.

It mirrors the store's commit records (the truth, see ingest/pipeline.py) in a file people can read, and
is written atomically (temp file + fsync + rename) so a crash never leaves half a manifest; a temp file
left by a crash mid-write is removed by the next ingest (`remove_leftovers`).
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

VERSION = 1
TEMP_PREFIX = ".manifest-"


@dataclass
class FileEntry:
    source: str
    sha256: str
    chunk_ids: list[str] = field(default_factory=list)


@dataclass
class Manifest:
    files: dict[str, FileEntry] = field(default_factory=dict)  # keyed by absolute path

    @classmethod
    def load(cls, path: Path) -> "Manifest":
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            # An unreadable manifest only costs a re-embed: reconcile rebuilds it from the files.
            return cls()
        if raw.get("version") != VERSION:
            return cls()
        return cls({key: FileEntry(**entry) for key, entry in raw.get("files", {}).items()})

    @staticmethod
    def remove_leftovers(path: Path) -> None:
        """Delete temp files of writes that were killed before their rename (call under the ingest lock)."""
        for leftover in path.parent.glob(f"{TEMP_PREFIX}*.tmp"):
            leftover.unlink(missing_ok=True)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": VERSION, "files": {k: asdict(v) for k, v in sorted(self.files.items())}}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
