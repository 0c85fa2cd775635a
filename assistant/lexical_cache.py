"""What LexicalIndex derives from the chunk texts (the BM25 matrix, vocabulary, names, periods), kept in the
data dir per index version, so a restart loads it instead of tokenising every chunk again (at 100,000
chunks: ~10 of the build's ~13 s; reading the chunks themselves stays).

An entry is named by the index version: a hash of the tokeniser's source and of the committed chunks in the
order they are read (the order is the matrix's columns): each one's id, which hashes its text, and the
metadata the derivation reads. An ingest, a metadata change or a tokeniser change makes a new entry, never
a wrong one.
It is written to a temporary folder and renamed into place; anything unreadable is rebuilt. Only a
speed-up: a failure to read or write is logged, never raised.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import bm25s
from langchain_core.documents import Document

from assistant import text

log = logging.getLogger(__name__)

FORMAT = "1"  # bump when what an entry holds changes
STALE_TEMP_S = 3600  # a temporary folder this old was left by a killed process


@dataclass(frozen=True)
class Derived:
    bm25: bm25s.BM25
    size: int
    vocabulary: frozenset[str]
    names: dict[str, str]
    periods: frozenset[tuple[int, int]]
    years: frozenset[int]


LABELS = ("title", "partnership", "partnerships")  # the metadata retrieval.derive takes names and periods from
METADATA_READ = (*LABELS, "section")  # all it reads besides the text: a change to any makes a new version


def version_key(chunks: list[tuple[str, Document]]) -> str:
    digest = hashlib.sha256(f"{FORMAT}\n".encode())
    digest.update(Path(text.__file__).read_bytes())  # tokens(), periods(), name_initialisms()
    for cid, doc in chunks:  # in order: the matrix's columns are the chunks in this order
        labels = "\x00".join(str(doc.metadata.get(k, "")) for k in METADATA_READ)
        digest.update(f"{cid}\x00{labels}\n".encode())
    return digest.hexdigest()[:32]


def load(folder: Path, key: str) -> Derived | None:
    entry = folder / key
    if not entry.is_dir():
        return None
    try:
        meta = json.loads((entry / "derived.json").read_text())
        return Derived(
            bm25=bm25s.BM25.load(str(entry), load_corpus=False),
            size=int(meta["size"]),
            vocabulary=frozenset(meta["vocabulary"]),
            names=dict(meta["names"]),
            periods=frozenset(tuple(span) for span in meta["periods"]),
            years=frozenset(meta["years"]),
        )
    except Exception:  # torn, truncated or from another version: rebuilding is always right
        log.warning("the saved BM25 index %s is unreadable; rebuilding it", entry, exc_info=True)
        shutil.rmtree(entry, ignore_errors=True)
        return None


def save(folder: Path, key: str, derived: Derived) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
        try:
            derived.bm25.save(str(temp), show_progress=False)
            meta = {"size": derived.size, "vocabulary": sorted(derived.vocabulary), "names": derived.names,
                    "periods": sorted(derived.periods), "years": sorted(derived.years)}
            (temp / "derived.json").write_text(json.dumps(meta))
            os.rename(temp, folder / key)  # another process may have saved the same entry: then keep theirs
        except OSError:
            shutil.rmtree(temp, ignore_errors=True)
            if not (folder / key).is_dir():
                raise
        _prune(folder, keep=key)
    except OSError as exc:  # a full or read-only disk costs the next start its speed-up, nothing else
        log.warning("could not save the BM25 index in %s (%s); the next start rebuilds it", folder, exc)


def _prune(folder: Path, keep: str) -> None:
    """Older versions' entries, and temporary folders a killed process left."""
    now = time.time()
    for entry in folder.iterdir():
        if entry.name == keep:
            continue
        if entry.name.startswith(".tmp-") and now - entry.stat().st_mtime < STALE_TEMP_S:
            continue  # another process may be writing it
        shutil.rmtree(entry, ignore_errors=True)
