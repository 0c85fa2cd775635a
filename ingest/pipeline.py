"""Files → chunks → index, incrementally and crash-safely.

Order of work, per window of changed files (up to WINDOW_CHUNKS new chunks or WINDOW_FILES files, so
the model embeds across files and a folder of small files costs a few Chroma writes, not a few per file):
  1. chunk the files; embed the chunks whose ids are new in one call; upsert them (invisible to queries:
     not committed yet);
  2. commit: rewrite the documents' commit records in the store (one write, each record atomic; see
     assistant/store.py) — queries switch from the old version of each document to the new one here;
  3. mirror the commits into the manifest file (temp file + fsync + rename);
  4. delete the chunks that the new versions no longer have.

Chunk ids hash source + position + text, so re-embedding after a crash produces the same ids. On start,
`_reconcile` compares commit records and index: chunks no record names (an upsert cut short, stale chunks
whose deletion was cut short) are deleted; a record naming chunks that are gone is dropped, so that file is
ingested again. Killing ingest at any point therefore converges, on the next run, on exactly the chunks a
clean ingest produces; and queries meanwhile see the previous or the new version of each document, never a
mix. A file that fails to load never touches what is already indexed for it.

One ingest runs at a time per data dir and, when the store is a Chroma server, per store: ingest/lock.py
holds a lease in the store, renewed while ingest runs; it is checked before every commit, and an ingest
that lost it stops there.

A full disk stops ingest with DiskFullError. Before each window, ingest checks that the disk holding the
index has room for it plus a margin, and stops before writing if not: an embedded Chroma that runs out of
space half-way through a write also fails *reads* until space is freed (its compactor cannot apply the
write it logged), so stopping early is what keeps the previous index answering. A write that fails anyway
(ENOSPC, or a Chroma error while the disk is full: another process filled it) becomes the same named
error. Like a kill, both leave every document at its previous or new version.

The commit records, not manifest.json, are the truth: the manifest is rewritten from them, so a stale or
lost manifest costs nothing.

An index holds the vectors of one embedding model, recorded in the store: ingesting with another model is
refused (`ChunkStore.check_model`) until `rebuild` drops the index and recreates it for the current model. A
rebuild killed part-way leaves an index of that model with some documents; the next ingest finishes it.
"""
from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from chromadb.errors import ChromaError
from langchain_core.documents import Document

from assistant.config import Settings
from assistant.errors import AssistantError, IngestError
from assistant.glossary import GLOSSARY_FILE
from assistant.store import ChunkStore
from ingest.chunking import chunk_pages
from ingest.loaders import load_pages
from ingest.lock import LocalOnly, StoreLease, exclusive_ingest
from ingest.manifest import FileEntry, Manifest
from ingest.metadata import METADATA_FILE, doc_meta_for, load_corpus_metadata


MIN_FREE_BYTES = 16 << 20  # room Chroma's log, compactor and SQLite need beyond the new data
BYTES_PER_CHUNK = 64 << 10  # a chunk with its parts' vectors and index entries, generously (corpus/: ~40 KB)
WINDOW_CHUNKS = 512
WINDOW_FILES = 256
EMBED_STEP = 256  # chunks per model call: large enough to batch well, small enough for a moving progress bar


class DiskFullError(AssistantError):
    """The disk is full (or too full to write the next window safely); the message names where."""

    def __init__(self, what: str, detail: str = ""):
        super().__init__(
            f"No space left on device while writing {what}{detail}. Ingest stopped; the index still answers, "
            "every document at its previous version (or its new one, if it was committed before). Free some "
            "space and run `partnership ingest` again to finish."
        )


class Progress(Protocol):
    def start(self, total_chunks: int) -> None: ...
    def advance(self, chunks: int) -> None: ...


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    chunks: int = 0

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "failed": self.failed,
            "chunks": self.chunks,
        }


def chunk_id(source: str, index: int, text: str) -> str:
    return hashlib.sha256(f"{source}\x00{index}\x00{text}".encode()).hexdigest()[:32]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def discover(paths: list[Path], follow_symlinks: bool = False) -> tuple[list[Path], list[dict[str, str]]]:
    """Expand folders into files; report paths that do not exist or escape their folder via a symlink.

    A file reached twice (a symlink to a file already listed, or given twice) is ingested once.
    """
    files: list[Path] = []
    problems: list[dict[str, str]] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            files.append(path)

    for given in paths:
        if given.is_dir():
            root = given.resolve()
            for path in sorted(given.rglob("*")):
                if path.name.startswith(".") or path.name in (METADATA_FILE, GLOSSARY_FILE) or not path.is_file():
                    continue
                if path.is_symlink() and not follow_symlinks and not path.resolve().is_relative_to(root):
                    problems.append({"source": str(path), "error": "symlink points outside the folder; not followed (use --follow-symlinks)"})
                    continue
                add(path)
        elif given.is_file():
            add(given)
        else:
            problems.append({"source": str(given), "error": "no such file or directory"})
    return files, problems


@dataclass
class _Pending:
    path: Path
    key: str
    sha: str
    docs: list[Document]
    ids: list[str]
    existed: bool

    @property
    def source(self) -> str:
        return self.docs[0].metadata["source"]


def ingest_paths(
    paths: list[Path],
    settings: Settings,
    store: ChunkStore,
    *,
    rebuild: bool = False,
    follow_symlinks: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index in line with `paths`. Returns counts of what changed and which files failed."""
    report = IngestReport()
    with _disk_full_is_named(settings), exclusive_ingest(settings, store.client) as lease:
        _ensure_space(settings, 0)  # reconcile and removals write too
        if rebuild:
            store.reset()  # the new collection records the current model before any vector is written
            settings.manifest_path.unlink(missing_ok=True)
        store.check_model(adopt_if_empty=True)  # vectors of two models are never mixed in one index
        store.backfill_parts()  # an index from before chunk parts were stored gets them once
        store.drop_orphan_parts()
        Manifest.remove_leftovers(settings.manifest_path)
        indexed = store.ids_by_source()
        manifest = _reconcile(Manifest.load(settings.manifest_path), indexed, store)
        _save(manifest, settings)

        files, report.failed = discover(paths, follow_symlinks)
        metadata_cache: dict[Path, dict] = {}
        keys_by_source: dict[str, set[str]] = {}
        for key, entry in manifest.files.items():
            keys_by_source.setdefault(entry.source, set()).add(key)
        claimed: dict[str, Path] = {}
        pending: list[_Pending] = []
        for path in files:
            key = str(path.resolve())
            try:
                item = _prepare(path, key, manifest, keys_by_source, claimed, indexed, settings, metadata_cache)
            except IngestError as exc:
                report.failed.append({"source": path.name, "error": str(exc)})
                continue
            if item is None:
                report.unchanged += 1
            else:
                pending.append(item)

        new_ids = {item.key: [i for i in item.ids if i not in indexed.get(item.source, set())] for item in pending}
        if progress:
            progress.start(sum(len(v) for v in new_ids.values()))
        for window in _windows(pending, new_ids):
            _ensure_space(settings, sum(len(new_ids[item.key]) for item in window))
            _commit_window(window, new_ids, manifest, keys_by_source, indexed, store, settings, progress, lease)
            for item in window:
                if item.existed:
                    report.updated += 1
                else:
                    report.added += 1

        report.removed = _remove_missing(manifest, store, settings, lease)
        report.chunks = store.raw_count()
    return report


@contextmanager
def _disk_full_is_named(settings: Settings) -> Iterator[None]:
    """A full disk becomes DiskFullError naming where the write went, instead of a Chroma or OS traceback."""
    try:
        yield
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        raise DiskFullError(exc.filename or f"the data dir {settings.data_dir}") from exc
    except ChromaError as exc:
        text = str(exc).lower()
        full = "disk is full" in text or "no space left" in text
        if settings.chroma_host and full:
            raise DiskFullError(f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}") from exc
        # Embedded Chroma's compactor reports a full disk only as "Failed to apply logs ...": ask the disk.
        if not settings.chroma_host and (full or _free_bytes(settings.chroma_dir) < MIN_FREE_BYTES):
            raise DiskFullError(f"the index in {settings.chroma_dir}", f" ({exc})") from exc
        raise


def _free_bytes(path: Path) -> int:
    while not path.exists() and path != path.parent:
        path = path.parent
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def _ensure_space(settings: Settings, new_chunks: int) -> None:
    """Raise DiskFullError, before anything is written, if the index's disk cannot hold `new_chunks` more
    with the margin. With a server only the manifest is local; the server's disk is its own."""
    where = settings.data_dir if settings.chroma_host else settings.chroma_dir
    needed = (1 << 20) if settings.chroma_host else MIN_FREE_BYTES + BYTES_PER_CHUNK * new_chunks
    free = _free_bytes(where)
    if free < needed:
        what = f"the manifest in {settings.data_dir}" if settings.chroma_host else f"the index in {where}"
        purpose = f" to write the next {new_chunks} chunks" if new_chunks else ""
        raise DiskFullError(what, f" ({free / 1e6:.1f} MB free, under the {needed / 1e6:.1f} MB ingest keeps free{purpose}; "
                                  "stopped before writing)")


def _save(manifest: Manifest, settings: Settings) -> None:
    try:
        manifest.save(settings.manifest_path)
    except OSError as exc:  # a failed write names no file; this one we know
        if exc.errno == errno.ENOSPC:
            raise DiskFullError(f"the manifest {settings.manifest_path}") from exc
        raise


def _reconcile(mirror: Manifest, indexed: dict[str, set[str]], store: ChunkStore) -> Manifest:
    """Bring index and commit records back in line after a crash; return the manifest they describe.

    `indexed` (every chunk id by source) is updated in place.
    """
    records = store.committed()
    if not records and mirror.files:
        records = _adopt_manifest(mirror, indexed, store)  # an index written before commit records existed
    broken = {s for s, r in records.items() if not set(r.chunk_ids) <= indexed.get(s, set())}
    store.uncommit(broken)
    for source, ids in list(indexed.items()):
        if source in broken:
            continue  # not visible any more; its file is re-ingested and reuses what is left
        committed = set(records[source].chunk_ids) if source in records else set()
        if ids - committed:
            store.delete(ids - committed)
            indexed[source] = ids & committed
        if not indexed[source]:
            del indexed[source]
    return Manifest({
        r.path: FileEntry(source=s, sha256=r.sha256, chunk_ids=list(r.chunk_ids))
        for s, r in records.items() if s not in broken
    })


def _adopt_manifest(mirror: Manifest, indexed: dict[str, set[str]], store: ChunkStore) -> dict:
    for key, entry in mirror.files.items():
        if set(entry.chunk_ids) <= indexed.get(entry.source, set()):
            store.commit(entry.source, entry.chunk_ids, entry.sha256, key)
    return store.committed()


def _prepare(path, key, manifest, keys_by_source, claimed, indexed, settings, metadata_cache) -> _Pending | None:
    size = path.stat().st_size
    limit = int(settings.max_file_mb * 1024 * 1024)
    if size > limit:
        raise IngestError(f"file is larger than the {settings.max_file_mb:g} MB limit ({size / 1024 / 1024:.1f} MB)")
    sha = file_sha256(path)
    entry = manifest.files.get(key)
    if entry and entry.sha256 == sha:
        claimed[entry.source] = path
        return None
    folder = path.parent.resolve()
    if folder not in metadata_cache:
        metadata_cache[folder] = load_corpus_metadata(folder)
    meta = doc_meta_for(path, metadata_cache[folder])
    clash = next((k for k in keys_by_source.get(meta.source, ()) if k != key and Path(k).exists()), None)
    if clash:
        raise IngestError(f"another file with the same name is already indexed from {clash}; rename one of them")
    if meta.source in claimed:
        raise IngestError(f"another file with the same name is in this ingest ({claimed[meta.source]}); rename one of them")
    docs = chunk_pages(load_pages(path, max_bytes=limit), meta)
    if not docs:
        raise IngestError("no text to index")
    claimed[meta.source] = path
    ids = [chunk_id(meta.source, d.metadata["chunk_index"], d.page_content) for d in docs]
    return _Pending(path, key, sha, docs, ids, existed=entry is not None or meta.source in indexed)


def _windows(pending: list[_Pending], new_ids: dict[str, list[str]]):
    window: list[_Pending] = []
    size = 0
    for item in pending:
        window.append(item)
        size += len(new_ids[item.key])
        if size >= WINDOW_CHUNKS or len(window) >= WINDOW_FILES:
            yield window
            window, size = [], 0
    if window:
        yield window


def _commit_window(window, new_ids, manifest, keys_by_source, indexed, store: ChunkStore, settings, progress,
                   lease: LocalOnly | StoreLease) -> None:
    wanted = {i for item in window for i in new_ids[item.key]}
    fresh = [(i, d) for item in window for i, d in zip(item.ids, item.docs) if i in wanted]
    vectors: list[list[float]] = []
    for start in range(0, len(fresh), EMBED_STEP):
        part = fresh[start : start + EMBED_STEP]
        vectors += store.embed([d.page_content for _, d in part])
        if progress:
            progress.advance(len(part))
    if fresh:
        store.upsert([i for i, _ in fresh], [d for _, d in fresh], vectors=vectors)
    lease.check()  # an ingest that lost its lease must not commit over the one that took it
    # queries switch to the new versions here
    store.commit_many([(item.source, item.ids, item.sha, item.key) for item in window])
    stale: set[str] = set()
    for item in window:
        for key in keys_by_source.get(item.source, set()) - {item.key}:
            manifest.files.pop(key, None)  # the same document moved: its old path must not delete its chunks later
        keys_by_source[item.source] = {item.key}
        manifest.files[item.key] = FileEntry(source=item.source, sha256=item.sha, chunk_ids=item.ids)
        stale |= indexed.get(item.source, set()) - set(item.ids)
        indexed[item.source] = set(item.ids)
    _save(manifest, settings)
    store.delete(stale)


def _remove_missing(manifest: Manifest, store: ChunkStore, settings: Settings, lease: LocalOnly | StoreLease) -> int:
    removed = 0
    for key, entry in list(manifest.files.items()):
        if Path(key).exists():
            continue
        lease.check()
        store.uncommit([entry.source])  # hidden from queries before its chunks go
        store.delete(entry.chunk_ids)
        del manifest.files[key]
        _save(manifest, settings)
        removed += 1
    return removed
