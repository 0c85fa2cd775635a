"""The ingest manifest: per-file content hash and the chunk ids it produced.

It is written atomically (temp file + fsync + rename) and only after a file's chunks are committed to the
index, so a crash at any point leaves a manifest that describes chunks that really exist.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

VERSION = 1


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

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": VERSION, "files": {k: asdict(v) for k, v in sorted(self.files.items())}}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".manifest-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
