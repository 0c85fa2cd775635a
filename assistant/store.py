"""The Chroma collection that holds the chunks: embedded (PersistentClient) or a Chroma server (HttpClient).

We talk to chromadb directly: index maintenance needs upsert/delete by id and listing by source, and search
needs the query vector we computed (it is reused to score sentences). Chroma's own default embedding
function is never used: it would download a model. Every vector comes from our embeddings.

Readers see only *committed* chunks. Next to the chunk collection lives a small "<collection>-commits"
collection with one record per document: the ids of its chunks, the file's hash and path. Ingest upserts a
document's new chunks first and then rewrites its commit record (one single-record upsert, atomic in
Chroma): that record is the switch from the old version to the new one, for every process and host that
reads the same store. `all_chunks`, `count` and `documents_summary` read through the commit records, so a
query never mixes an old and a new version of a document, and never sees half-ingested work.

The chunk collection's metadata records the embedding model that made its vectors (name, sha256 fingerprint,
dimension), so every process and host sharing the store knows it. `check_model` refuses to read or write an
index holding vectors of another model; `reset` (`ingest --rebuild`) recreates it for the current model.
"""
from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import chromadb
import httpx
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from assistant.config import Settings
from assistant.errors import AssistantError, StoreUnavailableError

if TYPE_CHECKING:
    from assistant.embeddings import ModelIdentity

log = logging.getLogger(__name__)

UPSERT_BATCH = 256  # chunks per Chroma write
GET_BATCH = 1000
SNAPSHOT_ATTEMPTS = 5
_NO_VECTOR = [0.0]  # commit records are looked up by id only; Chroma still wants a vector per record


class EmbeddingModelMismatchError(AssistantError):
    """The index holds vectors of another embedding model than the configured one."""


class _ServerGuard:
    """Wraps a Chroma server client or collection: a connection lost mid-call becomes StoreUnavailableError
    naming the server (CLI exit 2, HTTP 503) instead of a transport traceback."""

    def __init__(self, target, where: str):
        self._target, self._where = target, where

    def __getattr__(self, name: str):
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            try:
                result = attr(*args, **kwargs)
            except httpx.TransportError as exc:
                raise StoreUnavailableError(
                    f"Lost the connection to the Chroma server at {self._where} ({exc.__class__.__name__})."
                ) from exc
            return _ServerGuard(result, self._where) if name.endswith("collection") and result is not None else result

        return call


def open_client(settings: Settings):
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        where = f"{settings.chroma_host}:{settings.chroma_port}"
        try:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:  # chromadb raises several transport errors; all mean "not reachable"
            raise StoreUnavailableError(f"Cannot reach the Chroma server at {where} ({exc.__class__.__name__}).") from exc
        return _ServerGuard(client, where)
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


# -- HNSW settings -----------------------------------------------------------------------------------
# Measured with `python -m bench` (scale section: recall@5 against exact search, 100 near queries, on
# synthetic uniform vectors, HNSW's worst case):
# - M (Chroma's max_neighbors) is fixed when a collection is created, before ingest knows how big it will
#   be, so one M serves every size: Settings.hnsw_m, 32. At 10,000 chunks it took recall (uniform / near)
#   from 0.93 / 0.97 (M 16) to 0.99 / 1.00 at the same ef 400; at 1,000 chunks the cost is nothing
#   noticeable (a few seconds of build, ~6 MiB). At 100,000 the build took ~22 min on 2 shared cores.
# - ef_construction is Settings.hnsw_ef (400). ef_search is that up to EF_FLAT_UNTIL vectors and grows as
#   count^EF_GROWTH beyond: at 100,000 chunks with M 32, near recall was 0.78 / 0.91 / 0.96 / 0.98 / 0.99
#   at ef 400 / 800 / 1300 / 1600 / 2000, so 1,600 there (dense p50 ≈ 35 ms). Chroma 1.x lets ef_search
#   change on an existing collection, but a process that has counted or searched a collection keeps the
#   ef it loaded then (measured: modify after count() leaves that process at near recall 0.79 at 100,000
#   chunks, where a new process gets 0.97). So the writer sets ef_search for the size it leaves at the end
#   of every ingest, and later processes open the collection with it already right; an opener that finds it
#   stale (an index grown before this) sets it for the processes after it and says so (fit_search_ef).
EF_FLAT_UNTIL = 10_000
EF_GROWTH = 0.6  # 400 × 10^0.6 ≈ 1,600 at 100,000 chunks
EF_STEP = 100


def hnsw_configuration(settings: Settings) -> dict:
    """The HNSW configuration a collection is created with (cosine; M and ef as above)."""
    return {"space": "cosine", "ef_construction": settings.hnsw_ef, "ef_search": settings.hnsw_ef,
            "max_neighbors": settings.hnsw_m}


def search_ef(count: int, settings: Settings) -> int:
    """ef_search for a collection of `count` vectors: Settings.hnsw_ef, times (count / EF_FLAT_UNTIL) ^
    EF_GROWTH beyond EF_FLAT_UNTIL, in steps of EF_STEP (so the stored value changes only now and then)."""
    if count <= EF_FLAT_UNTIL:
        return settings.hnsw_ef
    wanted = settings.hnsw_ef * (count / EF_FLAT_UNTIL) ** EF_GROWTH
    return max(settings.hnsw_ef, EF_STEP * math.ceil(wanted / EF_STEP))


def fit_search_ef(collection, settings: Settings, *, opening: bool = False):
    """Set the collection's ef_search for its size; a write only when the size crossed a step. This process
    keeps the ef it loaded when it counted the collection (Chroma caches it), so the new value serves the
    processes that open the collection after it: `opening` says so in the log."""
    size = collection.count()
    want = search_ef(size, settings)
    hnsw = (collection.configuration or {}).get("hnsw") or {}
    if hnsw.get("ef_search") != want:
        collection.modify(configuration={"hnsw": {"ef_search": want}})
        if opening:
            log.warning("HNSW ef_search of %r set %s -> %s for its %s vectors; this process searches with the old "
                        "value until it restarts (an ingest sets it for the size it leaves)",
                        collection.name, hnsw.get("ef_search"), want, f"{size:,}")
    return collection


@dataclass(frozen=True)
class EmbeddedChunk:
    """A chunk's vector and its parts (title or Q&A question, each quotable sentence) with theirs."""
    vector: list[float]
    parts: list[tuple[str, list[float]]]


@dataclass(frozen=True)
class CommitRecord:
    """The committed version of one document: its chunk ids and the file they came from."""

    source: str
    chunk_ids: list[str]
    sha256: str
    path: str
    committed_at: int


def part_id(chunk_id: str, index: int) -> str:
    return f"{chunk_id}:{index}"


def part_chunk(part_id: str) -> str:
    """The chunk a part belongs to (chunk ids are hex digests: no ":" inside)."""
    return part_id.rpartition(":")[0]


class ChunkStore:
    """Chunks of all documents, with their vectors, in one Chroma collection, plus their commit records."""

    def __init__(self, settings: Settings, embeddings: Embeddings | None):
        self.settings = settings
        self.embeddings = embeddings
        # The model our vectors come from (assistant.embeddings.LocalEmbeddings); None for a store opened
        # without a model (doctor's counts, benchmarks writing synthetic vectors): nothing is recorded or checked.
        self.model: ModelIdentity | None = getattr(embeddings, "identity", None)
        self.client = open_client(settings)
        self.collection = self._open_collection()
        self.commits = self._open_commits()
        self.parts = self._open_parts()

    def _open_collection(self):
        return fit_search_ef(self.client.get_or_create_collection(
            self.settings.collection,
            embedding_function=None,  # never Chroma's default (it reaches the network)
            metadata=self.model.to_metadata() if self.model else None,  # only on creation: an existing one keeps its own
            configuration={"hnsw": hnsw_configuration(self.settings)},
        ), self.settings, opening=True)

    def _open_parts(self):
        # One vector per part of a chunk (its title, each quotable sentence: assistant.passages), so a chunk
        # can be found by its best sentence and answers quote sentences without embedding them again.
        return fit_search_ef(self.client.get_or_create_collection(
            f"{self.settings.collection}-parts",
            embedding_function=None,
            configuration={"hnsw": hnsw_configuration(self.settings)},
        ), self.settings, opening=True)

    def fit_search_ef(self) -> None:
        """ef_search of the chunk and parts collections for the sizes they have now: an ingest's last step,
        so every process opening the index afterwards searches with it (see fit_search_ef)."""
        fit_search_ef(self.collection, self.settings)
        fit_search_ef(self.parts, self.settings)

    def _open_commits(self):
        return self.client.get_or_create_collection(f"{self.settings.collection}-commits", embedding_function=None)

    def recorded_model(self) -> "ModelIdentity":
        """The embedding model that built the index (the bundled model for an index from before models were
        recorded)."""
        from assistant.embeddings import ModelIdentity

        return ModelIdentity.from_metadata(self.collection.metadata)

    def check_model(self, *, adopt_if_empty: bool = False) -> None:
        """Raise EmbeddingModelMismatchError if the index holds vectors of another model than ours: they
        cannot be compared with our vectors, nor mixed with them. An index without any vector is not refused;
        with `adopt_if_empty` (ingest) it is recorded as ours."""
        if self.model is None:
            return
        self.collection = self._open_collection()  # fresh metadata: another process may have rebuilt the index
        recorded = self.recorded_model()
        if recorded.same_model(self.model):
            return
        if self.collection.count() or self.commits.count():
            raise EmbeddingModelMismatchError(
                f"The index '{self.settings.collection}' was built with the embedding model {recorded}, but the "
                f"configured model is {self.model}; vectors of different models cannot be mixed. Run "
                "`partnership ingest --rebuild` to rebuild the index with the configured model (or set "
                "PARTNERSHIP_EMBEDDING_MODEL back to the model that built it; unset means the bundled model)."
            )
        if adopt_if_empty:
            self.collection.modify(metadata={**(self.collection.metadata or {}), **self.model.to_metadata()})

    def reset(self) -> None:
        """Drop and recreate the collections (`ingest --rebuild`), recording our model as the one building it."""
        for name in (self.settings.collection, f"{self.settings.collection}-commits", f"{self.settings.collection}-parts"):
            try:
                self.client.delete_collection(name)
            except StoreUnavailableError:
                raise
            except Exception:  # absent already: nothing to drop
                pass
        self.collection = self._open_collection()
        self.commits = self._open_commits()
        self.parts = self._open_parts()
        self.bump_generation()

    # -- writing (ingest) ----------------------------------------------------------------------------
    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors of `texts` in one model call (the model batches and length-sorts across them)."""
        return self.embeddings.embed_documents(list(texts)) if texts else []

    def embed_chunks(self, docs: Sequence[Document]) -> list[EmbeddedChunk]:
        """Each chunk's vector and its parts' vectors, from one model call over all of them: the parts are
        short and the chunks long, so sorting them together pads least, and a text that occurs twice (a
        sentence repeated across chunks, a one-sentence chunk) is embedded once."""
        parts, distinct = self.texts_to_embed(docs)
        by_text = dict(zip(distinct, self.embed(distinct)))
        return [EmbeddedChunk(by_text[d.page_content], [(t, by_text[t]) for t in texts]) for d, texts in zip(docs, parts)]

    def texts_to_embed(self, docs: Sequence[Document]) -> tuple[list[list[str]], list[str]]:
        """(each chunk's part texts, every distinct text the model must embed for these chunks)."""
        from assistant.passages import representations

        parts = [representations(d) if self.embeddings is not None else [] for d in docs]
        return parts, list(dict.fromkeys([d.page_content for d in docs] + [t for texts in parts for t in texts]))

    def upsert(
        self,
        ids: Sequence[str],
        docs: Sequence[Document],
        vectors: Sequence["EmbeddedChunk"] | None = None,
    ) -> None:
        """Store chunks (invisible to readers until `commit` names them). `vectors`, when given, are the
        chunks' embeddings computed beforehand (see `embed_chunks`)."""
        for start in range(0, len(ids), UPSERT_BATCH):
            batch_ids = list(ids[start : start + UPSERT_BATCH])
            batch = docs[start : start + UPSERT_BATCH]
            embedded = (list(vectors[start : start + UPSERT_BATCH]) if vectors is not None
                        else self.embed_chunks(batch))
            self.upsert_parts(batch_ids, batch, embedded)  # first: a chunk in the store always has its parts
            self.collection.upsert(
                ids=batch_ids,
                embeddings=[e.vector for e in embedded],
                documents=[d.page_content for d in batch],
                metadatas=[d.metadata for d in batch],
            )

    def upsert_parts(self, ids: Sequence[str], docs: Sequence[Document], embedded: Sequence["EmbeddedChunk"]) -> None:
        """Store the parts of these chunks (ids are content hashes: a part id never goes stale)."""
        if self.embeddings is None:  # synthetic-vector stores (benchmarks) have no text model
            return
        part_ids, texts, vectors, metas = [], [], [], []
        for chunk_id, doc, chunk in zip(ids, docs, embedded):
            for index, (text, vector) in enumerate(chunk.parts):
                part_ids.append(part_id(chunk_id, index))
                texts.append(text)
                vectors.append(vector)
                metas.append({"chunk": chunk_id, "source": doc.metadata.get("source", "")})
        for start in range(0, len(part_ids), UPSERT_BATCH * 8):
            end = start + UPSERT_BATCH * 8
            self.parts.upsert(ids=part_ids[start:end], embeddings=vectors[start:end],
                              documents=texts[start:end], metadatas=metas[start:end])

    def drop_orphan_parts(self) -> int:
        """Delete parts whose chunk is not stored (an ingest killed between writing a batch's parts and its
        chunks, for a file that changed before the next run)."""
        chunks = set(self.collection.get(include=[])["ids"])
        got = self.parts.get(include=["metadatas"])
        orphans = [pid for pid, meta in zip(got["ids"], got["metadatas"] or []) if (meta or {}).get("chunk") not in chunks]
        for start in range(0, len(orphans), 500):
            self.parts.delete(ids=orphans[start : start + 500])
        return len(orphans)

    def commit(self, source: str, chunk_ids: Sequence[str], sha256: str, path: str) -> None:
        """Make `chunk_ids` the visible version of `source` (one atomic record write)."""
        self.commit_many([(source, chunk_ids, sha256, path)])

    def commit_many(self, records: Sequence[tuple[str, Sequence[str], str, str]]) -> None:
        """Commit several documents, (source, chunk_ids, sha256, path) each, in one write: each record is
        atomic, and ingest only commits documents whose chunks are all stored."""
        if not records:
            return
        now = time.time_ns()
        self.commits.upsert(
            ids=[source for source, *_ in records],
            embeddings=[_NO_VECTOR] * len(records),
            documents=[json.dumps(list(chunk_ids)) for _, chunk_ids, _, _ in records],
            metadatas=[{"sha256": sha, "path": path, "chunks": len(chunk_ids), "committed_at": now}
                       for _, chunk_ids, sha, path in records],
        )
        self.bump_generation()

    def uncommit(self, sources: Iterable[str]) -> None:
        """Hide documents from readers (before their chunks are deleted)."""
        sources = list(sources)
        if sources:
            self.commits.delete(ids=sources)
            self.bump_generation()

    # -- the generation marker: what readers check on every question ------------------------------------
    @property
    def generation_path(self) -> Path | None:
        """A file beside the embedded index that every change of the commit records rewrites, so a reader
        can tell "nothing changed" from one small file read instead of two reads of the records. None for
        a Chroma server: its writers may be on other machines, so readers ask the server every time."""
        return None if self.settings.chroma_host else self.settings.chroma_dir / f"{self.settings.collection}.generation"

    def bump_generation(self) -> None:
        """Rewrite the marker (after the records changed: a reader that sees it unchanged has seen the change
        or reads it at its next full check). Written to a temp file and renamed, so it is never half-written."""
        path = self.generation_path
        if path is None:
            return
        temp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            temp.write_text(uuid.uuid4().hex, encoding="ascii")
            os.replace(temp, path)
        except OSError as exc:  # readers fall back to reading the records when the marker is stale or absent
            log.warning("could not update the index generation marker %s (%s): readers see the change at their next full check", path, exc)

    def generation(self) -> str | None:
        """The marker's current value; None when there is none (a Chroma server, an index from before it)."""
        path = self.generation_path
        try:
            return path.read_text(encoding="ascii") if path is not None else None
        except OSError:
            return None

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            # Parts first: a kill in between leaves a stale chunk without parts (deleted again next run),
            # never parts without their chunk.
            self.parts.delete(where={"chunk": {"$in": batch}})
            self.collection.delete(ids=batch)

    def raw_count(self) -> int:
        """Every chunk in the collection, committed or not."""
        return self.collection.count()

    def ids_by_source(self) -> dict[str, set[str]]:
        """Every chunk id in the collection (committed or not), by source."""
        got = self.collection.get(include=["metadatas"])
        by_source: dict[str, set[str]] = {}
        for chunk_id, meta in zip(got["ids"], got["metadatas"] or []):
            by_source.setdefault((meta or {}).get("source", ""), set()).add(chunk_id)
        return by_source

    def committed(self) -> dict[str, CommitRecord]:
        """The commit record of every visible document, by source."""
        got = self.commits.get(include=["documents", "metadatas"])
        return {
            source: CommitRecord(source, json.loads(text or "[]"), meta.get("sha256", ""), meta.get("path", ""),
                                 int(meta.get("committed_at", 0)))
            for source, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [])
        }

    # -- reading (queries): committed chunks only ------------------------------------------------------
    def has_documents(self) -> bool:
        """Anything committed (one COUNT: cheap enough for every question)."""
        return self.commits.count() > 0

    def marker(self) -> tuple[int, int]:
        """(documents committed, chunks stored): two COUNTs, read on every question to notice a re-ingest."""
        return self.commits.count(), self.collection.count()

    def commit_count(self) -> int:
        """Documents committed: one COUNT of the small commit collection. With `committed_since` it is what a
        reader checks on every question to notice a re-ingest: what readers see changes only when a commit
        record does (added, removed, or written again), never when an ingest stores chunks it has not yet
        committed. Counting the chunk collection too would cost ~20 ms at 100,000 chunks and rebuild the
        BM25 snapshot after every window an ingest writes."""
        return self.commits.count()

    def newest_commit(self) -> int:
        """The time (ns) of the latest commit; with `committed_since` it shows an edit that kept the
        number of chunks the same."""
        return max((r.committed_at for r in self.committed().values()), default=0)

    def committed_since(self, when: int) -> bool:
        got = self.commits.get(where={"committed_at": {"$gt": when}}, limit=1, include=[])
        return bool(got["ids"])

    def count(self) -> int:
        """Committed chunks (what queries can see)."""
        got = self.commits.get(include=["metadatas"])
        return sum(int((m or {}).get("chunks", 0)) for m in got["metadatas"] or [])

    def all_chunks(self) -> list[tuple[str, Document]]:
        """Every committed chunk: one consistent version of each document.

        The commit records are read first, then their chunks. Ingest deletes a document's old chunks only
        after committing the new ones, so if an old chunk has vanished in between, the records changed:
        read again (bounded) rather than return a mix.
        """
        chunks: list[tuple[str, Document]] = []
        for _ in range(SNAPSHOT_ATTEMPTS):
            wanted = [cid for record in self.committed().values() for cid in record.chunk_ids]
            chunks = self._get_chunks(wanted)
            if len(chunks) == len(wanted):
                break
        return chunks

    def _get_chunks(self, ids: list[str]) -> list[tuple[str, Document]]:
        out: list[tuple[str, Document]] = []
        for start in range(0, len(ids), GET_BATCH):
            got = self.collection.get(ids=ids[start : start + GET_BATCH], include=["documents", "metadatas"])
            out.extend(
                (cid, Document(page_content=text or "", metadata=dict(meta or {}), id=cid))
                for cid, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [])
            )
        return out

    def chunk_vectors(self, ids: Sequence[str]) -> tuple[list[str], list[list[float]]]:
        """(ids, vectors) of these chunks; an id no longer stored is left out."""
        found, vectors = [], []
        for start in range(0, len(ids), GET_BATCH):
            got = self.collection.get(ids=list(ids[start : start + GET_BATCH]), include=["embeddings"])
            found.extend(got["ids"])
            vectors.extend(got["embeddings"] if got["embeddings"] is not None else [])
        return found, vectors

    def all_part_vectors(self) -> tuple[list[str], list[list[float]]]:
        """(chunk id, vector) of every stored part, as two lists (raises ChromaError mid-write, as `get` does)."""
        got = self.parts.get(include=["embeddings"])
        vectors = got["embeddings"] if got["embeddings"] is not None else []
        return [part_chunk(pid) for pid in got["ids"]], list(vectors)

    def query(self, vector: list[float], k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """Nearest chunks to `vector` as (id, cosine similarity), best first. May include uncommitted
        ids: callers keep only ids of their `all_chunks` snapshot. Chroma returns fewer than `k` when it
        holds fewer, so no COUNT first (each Chroma call costs a few ms, and this runs on every question)."""
        got = self.collection.query(query_embeddings=[vector], n_results=k, where=where, include=["distances"])
        return [(cid, 1.0 - dist) for cid, dist in zip(got["ids"][0], got["distances"][0])]

    def query_parts(self, vector: list[float], k: int) -> list[tuple[str, float]]:
        """Nearest parts to `vector` as (chunk id, cosine similarity), best first; a chunk may come back once
        per part. May include uncommitted chunks: callers keep only ids of their snapshot."""
        if k <= 0:  # as in `query`, no COUNT: an empty collection simply returns nothing
            return []
        try:
            # Distances only: a part's id is "<chunk id>:<n>", and reading metadata back costs 2-3× the search.
            got = self.parts.query(query_embeddings=[vector], n_results=k, include=["distances"])
        except ChromaError:  # another process writing this moment: this question goes without the parts ranker
            log.warning("part search skipped: the parts collection is being written", exc_info=True)
            return []
        return [(part_chunk(pid), 1.0 - dist) for pid, dist in zip(got["ids"][0], got["distances"][0])]

    def part_vectors(self, chunk_ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored vector of each part text of these chunks, by text."""
        if not chunk_ids:
            return {}
        try:
            got = self.parts.get(where={"chunk": {"$in": list(chunk_ids)}}, include=["documents", "embeddings"])
        except ChromaError:  # another process writing this moment ("Error finding id"): only a speed-up lost
            return {}
        return {text: vector for text, vector in zip(got["documents"] or [], got["embeddings"] if got["embeddings"] is not None else [])}

    def titles(self) -> dict[str, str]:
        """Document title by source file name."""
        return {d["source"]: d["title"] for d in self.documents_summary()}

    def documents_summary(self) -> list[dict[str, Any]]:
        """Committed documents with title, kind, partnership and chunk count."""
        records = {s: r for s, r in self.committed().items() if r.chunk_ids}
        if not records:
            return []
        firsts = self.collection.get(ids=[r.chunk_ids[0] for r in records.values()], include=["metadatas"])
        meta_by_id = dict(zip(firsts["ids"], firsts["metadatas"] or []))
        summary = []
        for source in sorted(records):
            meta = meta_by_id.get(records[source].chunk_ids[0]) or {}
            summary.append({
                "source": source,
                "title": meta.get("title", source),
                "kind": meta.get("kind", "document"),
                "partnership": meta.get("partnerships") or meta.get("partnership") or "",
                "chunks": len(records[source].chunk_ids),
            })
        return summary
