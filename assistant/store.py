"""The Chroma collection that holds the chunks: embedded (PersistentClient) or a Chroma server (HttpClient).

We talk to chromadb directly: index maintenance needs upsert/delete by id and listing by source, and search
needs the query vector we computed (it is reused to score sentences). Chroma's own default embedding
function is never used: it would download a model. Every vector comes from our embeddings.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from assistant.config import Settings
from assistant.errors import StoreUnavailableError

UPSERT_BATCH = 64


def open_client(settings: Settings):
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        try:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:  # chromadb raises several transport errors; all mean "not reachable"
            raise StoreUnavailableError(
                f"Cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({exc.__class__.__name__})."
            ) from exc
        return client
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


class ChunkStore:
    """Chunks of all documents, with their vectors, in one Chroma collection."""

    def __init__(self, settings: Settings, embeddings: Embeddings):
        self.settings = settings
        self.embeddings = embeddings
        self.client = open_client(settings)
        self.collection = self._open_collection()

    def _open_collection(self):
        ef = self.settings.hnsw_ef
        return self.client.get_or_create_collection(
            self.settings.collection,
            embedding_function=None,  # never Chroma's default (it reaches the network)
            # Chroma's default ef settings missed the best chunk in the top 3 on small collections.
            configuration={"hnsw": {"space": "cosine", "ef_construction": ef, "ef_search": ef}},
        )

    def reset(self) -> None:
        """Drop and recreate the collection (`ingest --rebuild`)."""
        try:
            self.client.delete_collection(self.settings.collection)
        except Exception:  # absent already: nothing to drop
            pass
        self.collection = self._open_collection()

    def count(self) -> int:
        return self.collection.count()

    def upsert(
        self,
        ids: Sequence[str],
        docs: Sequence[Document],
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        for start in range(0, len(ids), UPSERT_BATCH):
            batch_ids = list(ids[start : start + UPSERT_BATCH])
            batch = docs[start : start + UPSERT_BATCH]
            vectors = self.embeddings.embed_documents([d.page_content for d in batch])
            self.collection.upsert(
                ids=batch_ids,
                embeddings=vectors,
                documents=[d.page_content for d in batch],
                metadatas=[d.metadata for d in batch],
            )
            if on_batch:
                on_batch(len(batch_ids))

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), 500):
            self.collection.delete(ids=ids[start : start + 500])

    def ids_by_source(self) -> dict[str, set[str]]:
        got = self.collection.get(include=["metadatas"])
        by_source: dict[str, set[str]] = {}
        for chunk_id, meta in zip(got["ids"], got["metadatas"] or []):
            by_source.setdefault((meta or {}).get("source", ""), set()).add(chunk_id)
        return by_source

    def all_chunks(self) -> list[tuple[str, Document]]:
        got = self.collection.get(include=["documents", "metadatas"])
        return [
            (chunk_id, Document(page_content=text or "", metadata=dict(meta or {}), id=chunk_id))
            for chunk_id, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [])
        ]

    def query(self, vector: list[float], k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """Nearest chunks to `vector` as (id, cosine similarity), best first."""
        k = min(k, max(self.count(), 1))
        got = self.collection.query(query_embeddings=[vector], n_results=k, where=where, include=["distances"])
        return [(cid, 1.0 - dist) for cid, dist in zip(got["ids"][0], got["distances"][0])]

    def titles(self) -> dict[str, str]:
        """Document title by source file name."""
        return {d["source"]: d["title"] for d in self.documents_summary()}

    def documents_summary(self) -> list[dict[str, Any]]:
        got = self.collection.get(include=["metadatas"])
        counts: Counter[str] = Counter()
        info: dict[str, dict[str, Any]] = {}
        for meta in got["metadatas"] or []:
            source = meta.get("source", "")
            counts[source] += 1
            info.setdefault(source, {
                "source": source,
                "title": meta.get("title", source),
                "kind": meta.get("kind", "document"),
                "partnership": meta.get("partnerships") or meta.get("partnership") or "",
            })
        return [dict(info[s], chunks=counts[s]) for s in sorted(info)]
