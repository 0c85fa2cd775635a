"""Hybrid retrieval: three rankers over the committed chunks, fused by score.

- dense: the whole chunk's vector (MiniLM, in Chroma) finds paraphrases of what a chunk is about;
- parts: a chunk's best part (its title or Q&A question, or one of its sentences; their vectors are in
  Chroma too) finds the short passage that says it, which a long hub chunk's single vector outshines;
- bm25: exact words, figures and acronyms ("£3.36", "SAfE") that a small embedding model blurs, plus the
  glossary's equivalents of the question's words at a lower weight.

Scores are fused, not ranks: each ranker's scores are standardised over its candidates (z-scores) and
added (`fuse`), so a chunk that one ranker finds far better than the rest (the only chunk with
"nurseries") is not outvoted by chunks that every ranker finds middling, as reciprocal-rank fusion would.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from collections import OrderedDict
from functools import cached_property

import bm25s
import numpy as np

from chromadb.errors import ChromaError
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, PrivateAttr

from assistant import lexical_cache
from assistant.batching import QueryBatcher, batch_query_function
from assistant.exact_search import EXACT_SEARCH_UP_TO, ExactVectors
from assistant.models import Filters
from assistant.glossary import Glossary
from assistant.memory import release_free_memory
from assistant.store import ChunkStore
from assistant.text import ACRONYM_RE, name_initialisms, periods, query_tokens, tokens, years_mentioned

log = logging.getLogger(__name__)

CANDIDATES = 50  # per ranker, before fusion and filtering
GLOSSARY_WEIGHT = 0.3  # a glossary term counts for less than the words actually asked
LOOKUP_BM25_WEIGHT = 2.0
PARTS_PER_CHUNK = 4  # parts fetched per chunk wanted: most chunks come back once per matching sentence
HUB_SHARE = 0.5  # a name in more than half of one document's chunks names the document, not a passage of it
HUB_MIN_CHUNKS = 5  # a document this short has no such names
FULL_CHECK_S = 2.0  # with an unchanged generation marker, the commit records are still read this often


class QueryEmbedder:
    """Embeds questions once: retrieval and sentence scoring reuse the same vector. Questions asked at the
    same time (concurrent HTTP requests) are embedded together in one model call (assistant/batching.py)."""

    def __init__(self, embeddings: Embeddings, cache_size: int = 512):
        self.embeddings = embeddings
        self.cache_size = cache_size
        self._questions: OrderedDict[str, tuple[float, ...]] = OrderedDict()  # least recently used first
        self._batch_cache: dict[str, np.ndarray] = {}  # float32: a tenth of the memory of tuples of floats
        self._parts_read: dict[str, None] = {}  # chunks whose part vectors are in _batch_cache (oldest first)
        self._cache_lock = threading.Lock()
        # One model call at a time: torch already spreads one call over every core, so concurrent calls
        # (many HTTP requests at once) would only compete for the same cores.
        self._model_lock = threading.Lock()
        self.batcher = QueryBatcher(batch_query_function(embeddings), self._model_lock)

    def embed(self, text: str) -> tuple[float, ...]:
        return self.embed_all([text])[0]

    def embed_all(self, texts: list[str]) -> list[tuple[float, ...]]:
        """Question vectors, cached (the last `cache_size`); those not cached are computed in one batch
        (a question and its hub-name-free form cost one model call, not two)."""
        with self._cache_lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._questions]
        fresh = dict(zip(missing, map(tuple, self.batcher.embed_all(missing)))) if missing else {}
        with self._cache_lock:
            self._questions.update(fresh)
            out = []
            for text in texts:
                self._questions.move_to_end(text)
                out.append(self._questions[text])
            while len(self._questions) > self.cache_size:
                self._questions.popitem(last=False)
        return out

    def cache_clear(self) -> None:
        """Forget the cached question vectors (benchmarks: every pass pays for its embeddings)."""
        with self._cache_lock:
            self._questions.clear()

    def expecting(self):
        """Context manager around one question: a batch being collected waits (briefly) for its vector."""
        return self.batcher.expecting()

    def remember(self, vectors: dict[str, list[float]]) -> None:
        """Vectors computed elsewhere (the parts stored at ingest), so answers need not embed them again."""
        with self._cache_lock:
            self._batch_cache.update((t, np.asarray(v, dtype=np.float32)) for t, v in vectors.items() if t not in self._batch_cache)

    def remember_parts(self, chunk_ids: list[str], read: Callable[[list[str]], dict[str, list[float]]]) -> None:
        """`remember` the stored part vectors of these chunks, reading (`read(ids)`) only chunks not read
        before: a warm server asks the store for none. A chunk id names its content, so its parts never change."""
        with self._cache_lock:
            missing = [cid for cid in chunk_ids if cid not in self._parts_read]
        if not missing:
            return
        self.remember(read(missing))
        with self._cache_lock:
            self._parts_read.update(dict.fromkeys(missing))
            if len(self._parts_read) > 20_000:  # bounded like the vector cache
                for key in list(self._parts_read)[:10_000]:
                    del self._parts_read[key]

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
                self._parts_read.clear()  # some of their vectors went: read them again when needed
            known = [self._batch_cache.get(t) for t in texts]
        # evicted meanwhile (another thread filled the cache): embed again
        return [vector if vector is not None else np.asarray(self.embed(t), dtype=np.float32) for vector, t in zip(known, texts)]


def exact_vectors(store: ChunkStore, docs: dict[str, Document]) -> tuple[ExactVectors | None, ExactVectors | None]:
    """This snapshot's chunk and part vectors for in-memory search. Vectors that cannot be read while another
    process writes them (ChromaError "Error finding id") stay in Chroma for this snapshot: its questions use
    HNSW. Parts of chunks outside the snapshot are left out."""
    try:
        ids, vectors = store.chunk_vectors(list(docs))
        chunks = ExactVectors.of(ids, vectors) if len(ids) == len(docs) else None
    except ChromaError:
        log.warning("chunk vectors not loaded for in-memory search: the collection is being written")
        chunks = None
    try:
        owners, part_vectors = store.all_part_vectors()
    except ChromaError:
        log.warning("part vectors not loaded for in-memory search: the parts collection is being written")
        return chunks, None
    kept = [i for i, owner in enumerate(owners) if owner in docs]
    return chunks, ExactVectors.of([owners[i] for i in kept], [part_vectors[i] for i in kept])


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
    bm25: SparseBM25 | None
    vocabulary: frozenset[str]
    names: dict[str, str]  # initialism → full name ("hlp" → "Hillingdon Learning Partnership")
    periods: frozenset[tuple[int, int]] = frozenset()  # every period the documents name ("2018-19" → (2018, 2019))
    years: frozenset[int] = frozenset()  # every year they name or a period of theirs covers
    # Small indexes search their chunk and part vectors in memory (exact, no Chroma round trip); None: HNSW.
    chunk_vectors: ExactVectors | None = None
    part_vectors: ExactVectors | None = None

    @classmethod
    def build(cls, store: ChunkStore) -> "LexicalIndex":
        chunks = store.all_chunks()
        ids = [cid for cid, _ in chunks]
        docs = dict(chunks)
        exact = exact_vectors(store, docs) if 0 < len(ids) <= EXACT_SEARCH_UP_TO else (None, None)
        if not chunks:
            return cls(ids, docs, None, frozenset(), {}, frozenset(), frozenset(), *exact)
        key = lexical_cache.version_key(chunks)
        derived = lexical_cache.load(store.settings.lexical_dir, key)
        if derived is None or derived.size != len(ids):
            derived = derive(chunks)
            lexical_cache.save(store.settings.lexical_dir, key, derived)
        bm25 = SparseBM25.from_index(derived.bm25, derived.size)
        return cls(ids, docs, bm25, derived.vocabulary, derived.names, derived.periods, derived.years, *exact)

    def spell_out(self, query: str) -> str:
        """Add the full name of any initialism the documents never use ("HLP" → "... Hillingdon Learning Partnership")."""
        extra = [
            self.names[word.lower()]
            for word in ACRONYM_RE.findall(query)
            if word.isupper() and "#" + word.lower() not in self.vocabulary and word.lower() in self.names
        ]
        return " ".join([query, *extra])

    @cached_property
    def _sources(self) -> tuple[np.ndarray, np.ndarray]:
        """Each chunk's document (as a number, in the order of `ids`) and each document's chunk count."""
        names = [self.docs[cid].metadata.get("source", "") for cid in self.ids]
        _, source_of, sizes = np.unique(np.asarray(names, dtype=object).astype(str), return_inverse=True, return_counts=True)
        return source_of, sizes

    def is_hub_token(self, token: str) -> bool:
        """`token` is in more than half of one document's chunks ("hillingdon" in the Hillingdon letter)."""
        ids = self.bm25.index.get_tokens_ids([token]) if self.bm25 else []
        if not ids:
            return False
        indptr, indices = self.bm25.index.scores["indptr"], self.bm25.index.scores["indices"]
        source_of, sizes = self._sources
        per_source = np.bincount(source_of[indices[indptr[ids[0]]:indptr[ids[0] + 1]]], minlength=len(sizes))
        return bool(((per_source > HUB_SHARE * sizes) & (sizes >= HUB_MIN_CHUNKS)).any())

    def without_hub_names(self, question: str) -> str:
        """The question without the names that appear in most chunks of a document ("ELP", "Hillingdon"):
        they say which document, not which of its passages, yet they pull a question's vector towards the
        chunks that repeat them most (an introduction) rather than the one that answers the rest of it.
        A name is a capitalised word after the first, or an acronym."""
        words = question.split()
        kept = [
            w for i, w in enumerate(words)
            if not (w[:1].isupper() and (i > 0 or sum(map(str.isupper, w)) > 1)
                    and (toks := tokens(w)) and all(self.is_hub_token(t) for t in toks))
        ]
        return " ".join(kept) if kept else question

    def search(self, query: str, n: int, glossary: Glossary = Glossary()) -> list[tuple[str, float]]:
        if not self.bm25:
            return []
        words = query_tokens(query)
        # The glossary helps ("charge" finds "pay", "LA" finds "council") at a lower weight; acronyms
        # ("SAfE", "THEP") name what the question is about, so they count double.
        scores = (
            self.bm25.get_scores(words)
            + GLOSSARY_WEIGHT * self.bm25.get_scores(glossary.related(words))
            + self.bm25.get_scores([w for w in words if w.startswith("#")])
        )
        return top_scores(self.ids, scores, n)


def top_scores(ids: list[str], scores: np.ndarray, n: int) -> list[tuple[str, float]]:
    """The `n` best positive scores, best first, without sorting every chunk (10,000s of them)."""
    n = min(n, len(scores))
    best = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(ids[i], float(scores[i])) for i in best if scores[i] > 0]


def derive(chunks: list[tuple[str, Document]]) -> lexical_cache.Derived:
    """What the lexical checks need from the chunk texts, in their order: BM25, vocabulary, names, periods."""
    corpus = [tokens(f"{d.metadata.get('section', '')} {d.page_content}") for _, d in chunks]
    labels = {cid: " ".join(str(d.metadata.get(k, "")) for k in lexical_cache.LABELS) for cid, d in chunks}
    names = name_initialisms(sorted(set(labels.values())) + [d.page_content for _, d in chunks])
    texts = [f"{labels[cid]} {d.metadata.get('section', '')} {d.page_content}" for cid, d in chunks]
    return lexical_cache.Derived(
        bm25=SparseBM25(corpus).index,
        size=len(corpus),
        vocabulary=frozenset(t for toks in corpus for t in toks),
        names=names,
        periods=frozenset(span for text in texts for span in periods(text).values()),
        years=frozenset(y for text in texts for y in years_mentioned(text)),
    )


class SparseBM25:
    """BM25 as a sparse term × chunk matrix (bm25s): a query sums a few rows instead of looping over
    every chunk in Python, so it stays fast at 100,000 chunks. Tokens are ours (acronyms kept, stemmed)."""

    def __init__(self, corpus: list[list[str]]):
        self.index = bm25s.BM25(k1=1.5, b=0.75, method="robertson")
        self.index.index(corpus, show_progress=False)
        self.size = len(corpus)

    @classmethod
    def from_index(cls, index: bm25s.BM25, size: int) -> "SparseBM25":
        """One built before (lexical_cache), over `size` chunks in the order of their ids."""
        bm25 = cls.__new__(cls)
        bm25.index, bm25.size = index, size
        return bm25

    def get_scores(self, words: list[str]) -> np.ndarray:
        ids = self.index.get_tokens_ids(list(words))
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return self.index.get_scores(ids)


class HybridRetriever(BaseModel):
    """Retriever over a ChunkStore. Each returned Document carries its scores in metadata:
    `dense` (cosine similarity), `part` (best part's cosine), `bm25`, and `fused` (the score that orders them).

    `invoke(question, filters=Filters(...))` narrows by partnership or kind. Not a LangChain BaseRetriever
    itself: importing that pulls LangChain's tracer stack (over a second at every start); `as_langchain()`
    gives one for a LangChain chain.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: ChunkStore
    query_embedder: QueryEmbedder
    glossary: Glossary = Glossary()
    k: int = 6
    _lexical: LexicalIndex | None = PrivateAttr(default=None)
    _marker: int = PrivateAttr(default=-1)
    _built_after: int = PrivateAttr(default=0)  # the newest commit the index includes
    _generation: str | None = PrivateAttr(default=None)  # the store's marker when the records were last read
    _read_at: float = PrivateAttr(default=0.0)  # when (monotonic) they were last read
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _pinned: threading.local = PrivateAttr(default_factory=threading.local)

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """One snapshot for a whole question on this thread: the first `lexical()` inside is kept, so
        retrieval and the evidence checks see the same index and the store's freshness check (a COUNT
        and a lookup) runs once per question instead of once per use."""
        if getattr(self._pinned, "active", False):  # nested: the outer question's pin holds
            yield
            return
        self._pinned.active, self._pinned.snapshot = True, None
        try:
            yield
        finally:
            self._pinned.active, self._pinned.snapshot = False, None

    def lexical(self) -> LexicalIndex:
        """The BM25 index, rebuilt when the store changed since it was built: documents or chunks added or
        removed, or a document committed again (an edit). Checking costs one COUNT of the commit records and
        one filtered lookup among them, not a read of every record or a COUNT of the chunks, so it stays cheap
        with thousands of documents and 100,000s of chunks. Inside `pinned()`,
        the question's snapshot."""
        pinned = getattr(self._pinned, "active", False)
        if pinned and self._pinned.snapshot is not None:
            return self._pinned.snapshot
        snapshot = self._fresh()
        if pinned:
            self._pinned.snapshot = snapshot
        return snapshot

    def _fresh(self) -> LexicalIndex:
        # The marker is read before the records: a commit after this read changes it again, so the next
        # question reads the records. Unchanged, and read within FULL_CHECK_S, the snapshot stands (a writer
        # that died between its commit and the marker is seen at the next full check).
        generation = self.store.generation()
        with self._lock:
            if (self._lexical is not None and generation is not None and generation == self._generation
                    and time.monotonic() - self._read_at < FULL_CHECK_S):
                return self._lexical
        marker = self.store.commit_count()
        with self._lock:
            if self._lexical is None or marker != self._marker or self.store.committed_since(self._built_after):
                newest = self.store.newest_commit()  # read first: a commit during the build triggers another
                self._lexical = None  # the old snapshot goes before the new one is built
                self._lexical = LexicalIndex.build(self.store)
                self._marker, self._built_after = marker, newest
                release_free_memory()  # the build's transient buffers and the old snapshot
            self._generation, self._read_at = generation, time.monotonic()
            return self._lexical

    def refresh(self) -> None:
        with self._lock:
            self._lexical, self._generation = None, None

    def invoke(self, query: str, *, filters: Filters | None = None, k: int | None = None) -> list[Document]:
        """The fused ranking's top k, best first."""
        return self.stages(query, filters, k, only_fused=True)["fused"]

    def as_langchain(self):
        """This retriever as a LangChain BaseRetriever (Runnable: callbacks, batch, chains)."""
        from assistant.langchain_retriever import LangChainRetriever

        return LangChainRetriever(hybrid=self)

    def stages(self, query: str, filters: Filters | None = None, k: int | None = None,
               only_fused: bool = False) -> dict[str, list[Document]]:
        """Each ranker's list and the fused one, best first (eval shows where a passage is lost):
        `dense` (whole-chunk vectors), `parts` (a chunk's best title or sentence), `bm25`, `fused` (top k).
        `only_fused`: the other lists stay empty (a question needs only the fused one; building every
        ranker's ~50 Documents cost more than the BM25 search)."""
        k = k or self.k
        lexical = self.lexical()
        if not lexical.ids:
            return {"dense": [], "parts": [], "bm25": [], "fused": []}
        # Parts (single sentences, titles, documented questions) are matched on what is asked, names aside.
        parts_query = lexical.without_hub_names(query)
        query = lexical.spell_out(query)
        vector, parts_vector = map(list, self.query_embedder.embed_all([query, parts_query]))
        n = len(lexical.ids) if filters else min(CANDIDATES, len(lexical.ids))
        words = query_tokens(query)
        # A question naming an acronym or a figure is a lookup: trust the exact-match ranker more.
        lookup = any(w.startswith("#") or w[:1].isdigit() or w[:1] == "£" for w in words)
        rankings = {
            "dense": (search(lexical.chunk_vectors, self.store.query, vector, n), 1.0),
            "parts": (best_per_chunk(search(lexical.part_vectors, self.store.query_parts, parts_vector, PARTS_PER_CHUNK * n)), 1.0),
            "bm25": (lexical.search(query, n, self.glossary), LOOKUP_BM25_WEIGHT if lookup else 1.0),
        }
        scores: dict[str, dict[str, float]] = {"parts": {}, "dense": {}, "bm25": {}}
        listed: dict[str, list[str]] = {}
        weighted: list[tuple[list[tuple[str, float]], float, int]] = []
        for stage, (ranking, weight) in rankings.items():
            kept = [(cid, s) for cid, s in ranking if cid in lexical.docs and matches(lexical.docs[cid].metadata, filters)]
            scores[stage] = dict(kept)
            listed[stage] = [cid for cid, _ in kept]
            weighted.append((kept, weight, n if stage == "bm25" else len(kept)))
        fused = fuse(weighted)
        listed["fused"] = sorted(fused, key=lambda cid: -fused[cid])[:k]

        def document(cid: str) -> Document:
            doc = lexical.docs[cid]
            meta = dict(doc.metadata, dense=scores["dense"].get(cid, 0.0), part=scores["parts"].get(cid, 0.0),
                        bm25=scores["bm25"].get(cid, 0.0), fused=fused.get(cid, 0.0))
            return Document(page_content=doc.page_content, metadata=meta, id=cid)

        self.query_embedder.remember_parts(listed["fused"], self.store.part_vectors)  # answers quote these parts
        return {stage: [document(cid) for cid in ids] if stage == "fused" or not only_fused else []
                for stage, ids in listed.items()}


def fuse(rankings: list[tuple[list[tuple[str, float]], float, int]]) -> dict[str, float]:
    """Each ranker's scores standardised (z-scores), weighted and added. Standardising, unlike scaling to 0..1
    between the best and the worst candidate, keeps how far a chunk stands out from the rest: one outlier
    does not squash every other score, and a ranker with a flat list counts less. A ranking comes with the
    number of candidates it judged: BM25 lists only chunks sharing a word with the question, the rest
    scored 0, and those zeros count in its mean and spread (else one exact match among few would not stand out)."""
    fused: dict[str, float] = {}
    for ranking, weight, judged in rankings:
        if ranking:
            values = np.asarray([v for _, v in ranking])
            unlisted = max(judged - len(values), 0)
            mean = values.sum() / (len(values) + unlisted)
            spread = np.sqrt(((values - mean) ** 2).sum() + unlisted * mean**2) / np.sqrt(len(values) + unlisted)
            for cid, v in ranking:
                fused[cid] = fused.get(cid, 0.0) + weight * (v - mean) / (spread or 1.0)
    return fused


def search(exact: ExactVectors | None, hnsw: Callable[[list[float], int], list[tuple[str, float]]],
           vector: list[float], k: int) -> list[tuple[str, float]]:
    """In memory when the snapshot holds these vectors, else Chroma's HNSW search."""
    return exact.search(vector, k) if exact is not None else hnsw(vector, k)


def best_per_chunk(parts: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """(chunk, score) per part, best first → each chunk once, at its best part's score."""
    best: dict[str, float] = {}
    for cid, score in parts:
        best.setdefault(cid, score)
    return list(best.items())
