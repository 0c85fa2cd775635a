"""Hybrid retrieval: dense (MiniLM vectors in Chroma) + BM25 over the same chunks + section-title
similarity, fused by reciprocal rank.

Dense search finds paraphrases; BM25 finds exact figures, names and acronyms ("£3.36", "SAfE") that a
small embedding model blurs; titles match questions to the slide or Q&A question that announces the answer.
"""
from __future__ import annotations

import threading

import numpy as np
from dataclasses import dataclass
from functools import lru_cache

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr
from rank_bm25 import BM25Okapi

from assistant.models import Filters
from assistant.store import ChunkStore
from assistant.text import ACRONYM_RE, name_initialisms, query_tokens, synonyms, tokens

RRF_K = 60  # the usual reciprocal-rank-fusion constant: dampens the weight of rank 1 vs rank 2
CANDIDATES = 50  # per ranker, before fusion and filtering
SYNONYM_WEIGHT = 0.3
TITLE_MATCH = 0.5


class QueryEmbedder:
    """Embeds questions once: retrieval and sentence scoring reuse the same vector."""

    def __init__(self, embeddings: Embeddings, cache_size: int = 512):
        self.embeddings = embeddings
        self.embed = lru_cache(maxsize=cache_size)(self._embed)
        self._batch_cache: dict[str, np.ndarray] = {}  # float32: a tenth of the memory of tuples of floats
        self._cache_lock = threading.Lock()
        # One model call at a time: torch already spreads one call over every core, so concurrent calls
        # (many HTTP requests at once) would only compete for the same cores.
        self._model_lock = threading.Lock()

    def _embed(self, text: str) -> tuple[float, ...]:
        with self._model_lock:
            return tuple(self.embeddings.embed_query(text))

    def embed_many(self, texts: list[str]) -> list[np.ndarray]:
        """Embed in one batch whatever is not cached yet (much faster than one by one)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._batch_cache]
        with self._model_lock:
            vectors = self.embeddings.embed_documents(missing) if missing else []
        with self._cache_lock:
            self._batch_cache.update((t, np.asarray(v, dtype=np.float32)) for t, v in zip(missing, vectors))
            if len(self._batch_cache) > 50_000:  # bounded: drop the oldest half
                for key in list(self._batch_cache)[:25_000]:
                    del self._batch_cache[key]
            known = [self._batch_cache.get(t) for t in texts]
        # evicted meanwhile (another thread filled the cache): embed again
        return [vector if vector is not None else np.asarray(self._embed(t), dtype=np.float32) for vector, t in zip(known, texts)]


def matches(meta: dict, filters: Filters | None) -> bool:
    if not filters:
        return True
    if filters.kind and meta.get("kind") != filters.kind:
        return False
    if filters.partnership:
        wanted = filters.partnership.lower()
        names = f"{meta.get('partnership', '')}; {meta.get('partnerships', '')}".lower()
        if wanted not in names:
            return False
    return True


@dataclass
class LexicalIndex:
    """BM25 over every chunk in the store, rebuilt when the store changes."""

    ids: list[str]
    docs: dict[str, Document]
    bm25: BM25Okapi | None
    vocabulary: frozenset[str]
    token_sets: dict[str, frozenset[str]]  # a chunk's words, with its title and partnership names
    names: dict[str, str]  # initialism → full name ("hlp" → "Hillingdon Learning Partnership")
    _title_vectors: np.ndarray | None = None

    @classmethod
    def build(cls, store: ChunkStore) -> "LexicalIndex":
        chunks = store.all_chunks()
        ids = [cid for cid, _ in chunks]
        docs = dict(chunks)
        corpus = [tokens(f"{d.metadata.get('section', '')} {d.page_content}") for _, d in chunks]
        vocab = frozenset(t for toks in corpus for t in toks)
        labels = {cid: " ".join(str(d.metadata.get(k, "")) for k in ("title", "partnership", "partnerships")) for cid, d in chunks}
        token_sets = {cid: frozenset(toks) | frozenset(tokens(labels[cid])) for cid, toks in zip(ids, corpus)}
        names = name_initialisms(sorted(set(labels.values())) + [d.page_content for _, d in chunks])
        return cls(ids, docs, BM25Okapi(corpus) if corpus else None, vocab, token_sets, names)

    def spell_out(self, query: str) -> str:
        """Add the full name of any initialism the documents never use ("HLP" → "... Hillingdon Learning Partnership")."""
        extra = [
            self.names[word.lower()]
            for word in ACRONYM_RE.findall(query)
            if word.isupper() and "#" + word.lower() not in self.vocabulary and word.lower() in self.names
        ]
        return " ".join([query, *extra])

    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        if not self.bm25:
            return []
        words = query_tokens(query)
        # Synonyms help ("charge" finds "pay") but count for less than the words actually asked;
        # acronyms ("SAfE", "THEP") name what the question is about, so they count double.
        scores = (
            self.bm25.get_scores(words)
            + SYNONYM_WEIGHT * self.bm25.get_scores(synonyms(words))
            + self.bm25.get_scores([w for w in words if w.startswith("#")])
        )
        ranked = sorted(range(len(scores)), key=lambda i: -scores[i])[:n]
        return [(self.ids[i], float(scores[i])) for i in ranked if scores[i] > 0]

    def title_vectors(self, embedder: "QueryEmbedder") -> np.ndarray:
        if self._title_vectors is None:
            titles = [self.docs[cid].metadata.get("section") or "" for cid in self.ids]
            self._title_vectors = np.asarray(embedder.embed_many(titles))
        return self._title_vectors

    def title_search(self, vector: np.ndarray, embedder: "QueryEmbedder", n: int) -> list[tuple[str, float]]:
        """Chunks whose section title (a slide title, a Q&A question) is closest to the question."""
        scores = self.title_vectors(embedder) @ vector
        ranked = np.argsort(-scores)[:n]
        # A weak title match says nothing; only titles that really echo the question get a vote.
        return [(self.ids[i], float(scores[i])) for i in ranked if scores[i] >= TITLE_MATCH]


class HybridRetriever(BaseRetriever):
    """LangChain retriever over a ChunkStore. Each returned Document carries its scores in metadata:
    `dense` (cosine similarity), `bm25`, and `rrf` (the fused score that orders the results).

    `invoke(question, filters=Filters(...))` narrows by partnership or kind.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: ChunkStore
    query_embedder: QueryEmbedder
    k: int = 6
    _lexical: LexicalIndex | None = PrivateAttr(default=None)
    _marker: tuple = PrivateAttr(default=())
    _built_after: int = PrivateAttr(default=0)  # the newest commit the index includes
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def lexical(self) -> LexicalIndex:
        """The BM25 index, rebuilt when the store changed since it was built: documents or chunks added or
        removed, or a document committed again (an edit). Checking costs two COUNTs and one filtered lookup,
        not a read of every commit record, so it stays cheap with thousands of documents."""
        marker = self.store.marker()
        with self._lock:
            if self._lexical is None or marker != self._marker or self.store.committed_since(self._built_after):
                newest = self.store.newest_commit()  # read first: a commit during the build triggers another
                self._lexical = LexicalIndex.build(self.store)
                self._marker, self._built_after = marker, newest
            return self._lexical

    def refresh(self) -> None:
        with self._lock:
            self._lexical = None

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        filters: Filters | None = None,
        k: int | None = None,
    ) -> list[Document]:
        k = k or self.k
        lexical = self.lexical()
        if not lexical.ids:
            return []
        query = lexical.spell_out(query)
        vector = self.query_embedder.embed(query)
        n = len(lexical.ids) if filters else min(CANDIDATES, len(lexical.ids))
        dense = [(cid, s) for cid, s in self.store.query(list(vector), n) if cid in lexical.docs]
        sparse = lexical.search(query, n)
        titles = lexical.title_search(np.asarray(vector), self.query_embedder, n)
        dense_score = dict(dense)
        bm25_score = dict(sparse)
        # A question naming an acronym or a figure is a lookup: trust the exact-match ranker more, and
        # let the chunks that mention every acronym asked about ("SAfE") vote once more.
        words = query_tokens(query)
        acronyms = {w for w in words if w.startswith("#")}
        bm25_weight = 2.0 if acronyms or any(w[:1].isdigit() or w[:1] == "£" for w in words) else 1.0
        naming = [(cid, s) for cid, s in sparse if acronyms and acronyms <= lexical.token_sets[cid]]
        fused: dict[str, float] = {}
        for ranking, weight in ((dense, 1.0), (sparse, bm25_weight), (titles, 1.0), (naming, 1.0)):
            rank = 0
            for cid, _ in ranking:
                if not matches(lexical.docs[cid].metadata, filters):
                    continue
                rank += 1
                fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank)
        best = sorted(fused, key=lambda cid: -fused[cid])[:k]
        results = []
        for cid in best:
            doc = lexical.docs[cid]
            meta = dict(doc.metadata, dense=dense_score.get(cid, 0.0), bm25=bm25_score.get(cid, 0.0), rrf=fused[cid])
            results.append(Document(page_content=doc.page_content, metadata=meta, id=cid))
        return results
