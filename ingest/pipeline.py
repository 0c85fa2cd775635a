"""Files → chunks → index, incrementally and crash-safely.

Changed files are committed in windows (up to WINDOW_CHUNKS new chunks or WINDOW_FILES files, so the model
embeds across files and a folder of small files costs a few Chroma writes, not a few per file). Every write
to the index goes through `IndexWriter`, whose docstring states the crash-safety protocol: new chunks first,
then the commit records (queries switch versions there), then the manifest mirror, then stale chunks
deleted; on start, whatever a killed run left is reconciled against the commit records. Chunk ids hash
source + position + text, so re-embedding after a crash produces the same ids. A file that fails to load
never touches what is already indexed for it.

One ingest runs at a time per data dir and, when the store is a Chroma server, per store: ingest/lock.py
holds a lease in the store, renewed while ingest runs; it is checked before every commit, and an ingest
that lost it stops there.

A full disk stops ingest with DiskFullError. Before each window, ingest checks that the disk holding the
index has room for it plus a margin, and stops before writing if not: an embedded Chroma that runs out of
space half-way through a write also fails *reads* until space is freed (its compactor cannot apply the
write it logged), so stopping early is what keeps the previous index answering. A write that fails anyway
(ENOSPC, or a Chroma error while the disk is full: another process filled it) becomes the same named
error. Like a kill, both leave every document at its previous or new version.

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
from assistant.store import ChunkStore, EmbeddedChunk
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
    new_ids: list[str]  # the ids not stored yet: only these are embedded and written

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
        writer = IndexWriter.open(settings, store, lease)

        files, report.failed = discover(paths, follow_symlinks)
        pending: list[_Pending] = []
        for path in files:
            try:
                item = writer.prepare(path)
            except IngestError as exc:
                report.failed.append({"source": path.name, "error": str(exc)})
                continue
            if item is None:
                report.unchanged += 1
            else:
                pending.append(item)

        if progress:
            progress.start(sum(len(item.new_ids) for item in pending))
        for window in _windows(pending):
            _ensure_space(settings, sum(len(item.new_ids) for item in window))
            writer.commit(window, progress)
            for item in window:
                if item.existed:
                    report.updated += 1
                else:
                    report.added += 1

        report.removed = writer.remove_missing()
        store.fit_search_ef()  # for the size this ingest leaves: the processes that open it next search with it
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


def _windows(pending: list[_Pending]) -> Iterator[list[_Pending]]:
    window: list[_Pending] = []
    size = 0
    for item in pending:
        window.append(item)
        size += len(item.new_ids)
        if size >= WINDOW_CHUNKS or len(window) >= WINDOW_FILES:
            yield window
            window, size = [], 0
    if window:
        yield window


class IndexWriter:
    """The one owner of ingest's state, and the only code that writes the index. The protocol:

    1. Open (`open`): drop leftovers of a killed run — chunks no commit record names (an upsert cut short,
       stale chunks whose deletion was cut short) are deleted; a record naming chunks that are gone is
       dropped, so its file is ingested again. Then mirror the records into the manifest.
    2. Per window of files (`commit`): upsert the new chunks (invisible: not committed yet); check the lease;
       rewrite the documents' commit records in one write (queries switch versions here); mirror them into
       the manifest (temp file + fsync + rename); only then delete the chunks the new versions dropped.
    3. Per removed file (`remove_missing`): check the lease; uncommit it (hidden); delete its chunks; mirror.

    So a kill at any point leaves every document at its previous or new version, and the next open
    converges on exactly a clean build. The commit records are the truth; the manifest is a mirror.

    State: `manifest` (the mirror), `indexed` (every stored chunk id by source, committed or not),
    `_keys_by_source` (file paths indexed under each source name), `_claimed` (source name → file in this
    run), `_metadata` (corpus metadata by folder).

    Args:
        settings: paths and limits (manifest path, max file size).
        store: the index.
        lease: checked before every commit and removal; an ingest that lost it stops there.
    """

    def __init__(self, settings: Settings, store: ChunkStore, lease: LocalOnly | StoreLease):
        self.settings, self.store, self.lease = settings, store, lease
        self.manifest = Manifest()
        self.indexed: dict[str, set[str]] = {}
        self._keys_by_source: dict[str, set[str]] = {}
        self._claimed: dict[str, Path] = {}
        self._metadata: dict[Path, dict] = {}

    @classmethod
    def open(cls, settings: Settings, store: ChunkStore, lease: LocalOnly | StoreLease) -> IndexWriter:
        """A writer over an index brought back in line after any crash (protocol step 1)."""
        writer = cls(settings, store, lease)
        writer._reconcile()
        return writer

    def _reconcile(self) -> None:
        store = self.store
        store.drop_orphan_parts()
        Manifest.remove_leftovers(self.settings.manifest_path)
        self.indexed = indexed = store.ids_by_source()
        records = store.committed()
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
        self.manifest = Manifest({
            r.path: FileEntry(source=s, sha256=r.sha256, chunk_ids=list(r.chunk_ids))
            for s, r in records.items() if s not in broken
        })
        for key, entry in self.manifest.files.items():
            self._keys_by_source.setdefault(entry.source, set()).add(key)
        self._save()

    def prepare(self, path: Path) -> _Pending | None:
        """Chunk `path` if it changed since its commit (None if not). Raises IngestError for an unusable file
        or a source name another file already has; nothing is written."""
        key = str(path.resolve())
        size = path.stat().st_size
        limit = int(self.settings.max_file_mb * 1024 * 1024)
        if size > limit:
            raise IngestError(f"file is larger than the {self.settings.max_file_mb:g} MB limit ({size / 1024 / 1024:.1f} MB)")
        sha = file_sha256(path)
        entry = self.manifest.files.get(key)
        if entry and entry.sha256 == sha:
            self._claimed[entry.source] = path
            return None
        folder = path.parent.resolve()
        if folder not in self._metadata:
            self._metadata[folder] = load_corpus_metadata(folder)
        meta = doc_meta_for(path, self._metadata[folder])
        clash = next((k for k in self._keys_by_source.get(meta.source, ()) if k != key and Path(k).exists()), None)
        if clash:
            raise IngestError(f"another file with the same name is already indexed from {clash}; rename one of them")
        if meta.source in self._claimed:
            raise IngestError(f"another file with the same name is in this ingest ({self._claimed[meta.source]}); rename one of them")
        docs = chunk_pages(load_pages(path, max_bytes=limit), meta)
        if not docs:
            raise IngestError("no text to index")
        self._claimed[meta.source] = path
        ids = [chunk_id(meta.source, d.metadata["chunk_index"], d.page_content) for d in docs]
        stored = self.indexed.get(meta.source, set())
        return _Pending(path, key, sha, docs, ids, existed=entry is not None or meta.source in self.indexed,
                        new_ids=[i for i in ids if i not in stored])

    def commit(self, window: list[_Pending], progress: Progress | None = None) -> None:
        """Protocol step 2 for `window`: embed and upsert, check the lease, commit, mirror, delete stale."""
        store = self.store
        wanted = {i for item in window for i in item.new_ids}
        fresh = [(i, d) for item in window for i, d in zip(item.ids, item.docs) if i in wanted]
        vectors: list[EmbeddedChunk] = []
        for start in range(0, len(fresh), EMBED_STEP):
            part = fresh[start : start + EMBED_STEP]
            vectors += store.embed_chunks([d for _, d in part])
            if progress:
                progress.advance(len(part))
        if fresh:
            store.upsert([i for i, _ in fresh], [d for _, d in fresh], vectors=vectors)
        self.lease.check()  # an ingest that lost its lease must not commit over the one that took it
        store.commit_many([(item.source, item.ids, item.sha, item.key) for item in window])
        stale: set[str] = set()
        for item in window:
            for key in self._keys_by_source.get(item.source, set()) - {item.key}:
                self.manifest.files.pop(key, None)  # the same document moved: its old path must not delete its chunks later
            self._keys_by_source[item.source] = {item.key}
            self.manifest.files[item.key] = FileEntry(source=item.source, sha256=item.sha, chunk_ids=item.ids)
            stale |= self.indexed.get(item.source, set()) - set(item.ids)
            self.indexed[item.source] = set(item.ids)
        self._save()
        store.delete(stale)

    def remove_missing(self) -> int:
        """Protocol step 3: remove every committed file that no longer exists; returns how many."""
        removed = 0
        for key, entry in list(self.manifest.files.items()):
            if Path(key).exists():
                continue
            self.lease.check()
            self.store.uncommit([entry.source])  # hidden from queries before its chunks go
            self.store.delete(entry.chunk_ids)
            del self.manifest.files[key]
            self._save()
            removed += 1
        return removed

    def _save(self) -> None:
        try:
            self.manifest.save(self.settings.manifest_path)
        except OSError as exc:  # a failed write names no file; this one we know
            if exc.errno == errno.ENOSPC:
                raise DiskFullError(f"the manifest {self.settings.manifest_path}") from exc
            raise
