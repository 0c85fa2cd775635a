"""Scale: ingest of synthetic corpora (1k and 10k documents), and retrieval latency and HNSW recall at
1k/10k/100k chunks with synthetic vectors inserted straight into a collection opened by ChunkStore."""
from __future__ import annotations

import json
import os
import shutil
import time
import zlib
from datetime import datetime, timezone
from pathlib import Path

from bench import synthetic
from bench.context import Ctx, disk_usage_mb
from bench.proc import WorkerError, call_worker
from bench.stats import latency

MODEL_LOAD_ALLOWANCE_S = 90
NEAR_NOISE = 1.0
CHUNKS_PER_DOC = 50  # synthetic chunks per commit record (a corpus document has tens of chunks)  # a unit-norm perturbation of this size puts the query at cosine ≈ 0.71 from its source


def run(ctx: Ctx) -> dict:
    plan = ctx.plan
    corpora = [_ingest_synthetic(ctx, n) for n in plan.scale_docs]
    args = {"sizes": list(plan.retrieval_chunks), "queries": plan.retrieval_queries,
            "hybrid_max": plan.hybrid_max_chunks, "hybrid_queries": plan.hybrid_queries, "workdir": str(ctx.workdir / "vectors"),
            "cache": str(ctx.vector_cache) if ctx.vector_cache else None}
    try:
        retrieval, _ = call_worker("retrieval", args, ctx.workdir / "workers", plan.timeout_s)
    except WorkerError as exc:
        retrieval = {"error": str(exc), "sizes": []}
    shutil.rmtree(ctx.workdir / "vectors", ignore_errors=True)  # the cache (ctx.vector_cache) is kept
    return {
        "generator": (f"bench/synthetic.py: random.Random(seed={synthetic.SEED}) fills {len(synthetic.PARAGRAPHS)} "
                      f"paragraph templates (fees, phases, priorities, governance, Q&A) for partnerships named "
                      f"from {len(synthetic.PLACES)} places x {len(synthetic.SUFFIXES)} suffixes; "
                      f"{plan.scale_paragraphs} paragraph(s) per document after a title line"),
        "corpora": corpora,
        "retrieval": retrieval,
    }


def _ingest_synthetic(ctx: Ctx, n_docs: int) -> dict:
    folder = ctx.workdir / f"synthetic-{n_docs}"
    started = time.perf_counter()
    info = synthetic.write_corpus(folder / "corpus", n_docs, ctx.plan.scale_paragraphs)
    info["generate_s"] = time.perf_counter() - started
    progress = folder / "progress.log"
    limit = ctx.plan.scale_time_limit_s
    try:
        # The limit covers model loading too (MODEL_LOAD_ALLOWANCE_S) so only the ingest itself is capped.
        result, measured = call_worker(
            "scale_ingest", {"corpus": str(folder / "corpus"), "data_dir": str(folder / "data"), "progress": str(progress)},
            ctx.workdir / "workers", limit + MODEL_LOAD_ALLOWANCE_S, label=f"scale_ingest_{n_docs}")
        entry = {**info, **result, "error": None, "stopped_at_time_limit": False, "peak_rss_mb": measured.peak_rss_mb, "process_wall_s": measured.wall_s,
                 "index_size_mb": disk_usage_mb(folder / "data")}
    except WorkerError as exc:
        entry = {**info, "stopped_at_time_limit": exc.timed_out, "error": None if exc.timed_out else str(exc)}
    entry["progress"] = _progress(progress)  # how the rate evolved (and how far a stopped run got)
    shutil.rmtree(folder, ignore_errors=True)
    return entry


def _progress(path: Path) -> dict | None:
    """Chunks done and the rate in the first and last fifth of the run (a falling rate means per-file
    costs that grow with the size of the index)."""
    lines = path.read_text().splitlines() if path.exists() else []
    total = int(lines[0].split()[1]) if lines and lines[0].startswith("total") else None
    rows = [tuple(map(float, line.split())) for line in lines if not line.startswith("total")]
    if len(rows) < 2:
        return None
    elapsed, done = rows[-1]

    def rate(lo: float, hi: float) -> float | None:
        inside = [r for r in rows if lo <= r[0] <= hi]
        if len(inside) < 2 or inside[-1][0] == inside[0][0]:
            return None
        return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])

    return {"elapsed_s": elapsed, "chunks_done": int(done), "chunks_total": total,
            "chunks_per_s": done / elapsed if elapsed else None,
            "chunks_per_s_first_fifth": rate(0, elapsed / 5), "chunks_per_s_last_fifth": rate(elapsed * 4 / 5, elapsed)}


class _ProgressLog:
    """ingest_paths progress written to a file, so a run killed at the time limit still says how far it got."""

    def __init__(self, path: Path):
        self.fh = path.open("w")
        self.started = time.perf_counter()
        self.done = 0

    def start(self, total_chunks: int) -> None:
        self.fh.write(f"total {total_chunks}\n")

    def advance(self, chunks: int) -> None:
        self.done += chunks
        self.fh.write(f"{time.perf_counter() - self.started:.3f} {self.done}\n")
        self.fh.flush()


def ingest_worker(args: dict) -> dict:
    from assistant.config import Settings
    from assistant.embeddings import load_embeddings
    from assistant.store import ChunkStore
    from ingest.pipeline import ingest_paths

    started = time.perf_counter()
    embeddings = load_embeddings()
    model_load_s = time.perf_counter() - started
    settings = Settings(data_dir=Path(args["data_dir"]), corpus_dir=Path(args["corpus"]))
    store = ChunkStore(settings, embeddings)
    started = time.perf_counter()
    report = ingest_paths([settings.corpus_dir], settings, store, progress=_ProgressLog(Path(args["progress"])))
    seconds = time.perf_counter() - started
    if report.failed:
        raise RuntimeError(f"{len(report.failed)} synthetic files failed, first: {report.failed[0]}")
    return {"model_load_s": model_load_s, "ingest_s": seconds, "chunks": report.chunks,
            "docs_per_s": report.added / seconds, "chunks_per_s": report.chunks / seconds,
            **_retrieve_after_ingest(settings, embeddings)}


def _retrieve_after_ingest(settings, embeddings, n_questions: int = 20) -> dict:
    """Assistant.retrieve on the synthetic index with the real model: the first call (builds BM25 and
    embeds every section title) and then warm calls."""
    from assistant.factory import build_assistant

    assistant = build_assistant(settings, embeddings=embeddings)
    asked = synthetic.questions(n_questions + 1)
    started = time.perf_counter()
    assistant.retrieve(asked[0])
    first = time.perf_counter() - started
    times = []
    for question in asked[1:]:
        started = time.perf_counter()
        assistant.retrieve(question)
        times.append(time.perf_counter() - started)
    return {"first_retrieve_s": first, "retrieve": latency(times)}


class _TableEmbeddings:
    """Text -> synthetic vector: a query's pre-drawn vector, or for any other text (section titles the
    retriever embeds) a unit vector seeded by the text. The retriever runs unchanged, minus the model."""

    def __init__(self, table: dict):
        self.table = table

    def embed_query(self, text: str) -> list[float]:
        if text in self.table:
            return self.table[text].tolist()
        return synthetic.unit_vectors(1, seed=zlib.crc32(text.encode()))[0].tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]


def retrieval_worker(args: dict) -> dict:
    import numpy as np

    from assistant.retrieval import CANDIDATES, HybridRetriever, QueryEmbedder

    n_queries, root = int(args["queries"]), Path(args["workdir"])
    cache = Path(args["cache"]) if args.get("cache") else None
    sizes = []
    for n in args["sizes"]:
        vectors = synthetic.unit_vectors(n)
        with_text = n <= int(args["hybrid_max"])
        store, settings, built = _collection(n, vectors, with_text, cache or root)

        queries = synthetic.unit_vectors(n_queries, seed=synthetic.SEED + 1)
        for q in queries[:5]:  # warm the index into memory
            store.query(q.tolist(), CANDIDATES)
        dense = []
        for q in queries:
            t0 = time.perf_counter()
            store.query(q.tolist(), CANDIDATES)  # what HybridRetriever asks Chroma for
            dense.append(time.perf_counter() - t0)

        rng = np.random.default_rng(synthetic.SEED + 3)
        sources = rng.choice(n, size=n_queries, replace=False) if n >= n_queries else rng.choice(n, size=n_queries)
        near = vectors[sources] + NEAR_NOISE * synthetic.unit_vectors(n_queries, seed=synthetic.SEED + 4)
        near /= np.linalg.norm(near, axis=1, keepdims=True)
        entry = {"chunks": n, **built, "vectors_per_s": n / built["build_s"], "dense_query": latency(dense),
                 "candidates": CANDIDATES, "index_size_mb": disk_usage_mb(settings.data_dir),
                 "recall_at_5_uniform_queries": _recall(store, vectors, queries, 5),
                 "recall_at_5_near_queries": _recall(store, vectors, near, 5),
                 "near_source_found_at_5": _source_found(store, sources, near, 5)}

        if with_text:
            query_texts = synthetic.texts(int(args["hybrid_queries"]), seed=synthetic.SEED + 2)
            embedder = QueryEmbedder(_TableEmbeddings(dict(zip(query_texts, queries))))
            retriever = HybridRetriever(store=store, query_embedder=embedder, k=settings.top_k)
            t0 = time.perf_counter()
            retriever.lexical()
            entry["bm25_build_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            retriever.invoke("warm-up question")  # the first query also embeds every section title
            entry["first_hybrid_query_s"] = time.perf_counter() - t0
            hybrid, found = [], 0
            for text in query_texts:
                t0 = time.perf_counter()
                found += len(retriever.invoke(text))
                hybrid.append(time.perf_counter() - t0)
            entry["hybrid_query"] = latency(hybrid)
            entry["hybrid_hits_per_query"] = found / len(query_texts)  # > 0: it searched committed chunks
        sizes.append(entry)
    return {"vectors": f"synthetic: uniform on the {synthetic.DIM}-d unit sphere, numpy seed {synthetic.SEED}",
            "texts": "synthetic paragraphs and section titles from bench/synthetic.py (for BM25 and title "
                     "matching in the hybrid retriever; titles get text-seeded synthetic vectors)",
            "uniform_queries": "random unit vectors (the hardest case for HNSW: no structure)",
            "near_queries": "a stored vector plus unit-norm noise (cosine ≈ 0.71, like a question and its chunk)",
            "sizes": sizes}


def _collection(n: int, vectors, with_text: bool, root: Path):
    """A ChunkStore holding `n` synthetic chunks: built now, or reused from `root` if an earlier run built
    the identical one (same size, seed, ef and chromadb version; the HNSW build is the slow part)."""
    import chromadb

    from assistant.config import Settings
    from assistant.store import ChunkStore

    ef = Settings().hnsw_ef
    folder = root / f"chunks-{n}-{'hybrid' if with_text else 'dense'}-seed{synthetic.SEED}-ef{ef}-chromadb{chromadb.__version__}"
    marker = folder / "bench-built.json"
    settings = Settings(data_dir=folder)
    if marker.exists():
        store = ChunkStore(settings, embeddings=None)
        if store.raw_count() == n:
            return store, settings, {**json.loads(marker.read_text()), "build_reused": True}
        shutil.rmtree(folder)  # incomplete or stale: build again
    store = ChunkStore(settings, embeddings=None)  # same collection config; vectors go in directly
    ids = [f"c{i}" for i in range(n)]
    texts = synthetic.texts(n) if with_text else None
    # Section titles and sources as real chunks have them (the retriever also matches titles).
    metas = [{"source": f"synthetic-{i // CHUNKS_PER_DOC:06d}.txt", "section": title}
             for i, title in enumerate(synthetic.titles(n))] if with_text else None
    batch = min(5000, store.client.get_max_batch_size())
    started = time.perf_counter()
    for start in range(0, n, batch):
        store.collection.add(ids=ids[start:start + batch], embeddings=vectors[start:start + batch],
                             documents=texts[start:start + batch] if texts else None,
                             metadatas=metas[start:start + batch] if metas else None)
    build_s = time.perf_counter() - started
    if with_text:  # readers (BM25, titles) only see committed documents
        for start in range(0, n, CHUNKS_PER_DOC):
            store.commit(metas[start]["source"], ids[start:start + CHUNKS_PER_DOC], "synthetic", "synthetic")
    built = {"build_s": build_s, "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
             "load_avg_at_build": [round(x, 2) for x in os.getloadavg()]}
    marker.write_text(json.dumps(built))
    return store, settings, {**built, "build_reused": False}


def _source_found(store, sources, near, k: int) -> float:
    """Share of near queries whose source vector (the chunk the question is about) is in the top k."""
    got = store.collection.query(query_embeddings=near, n_results=k, include=[])["ids"]
    return sum(f"c{int(src)}" in ids for src, ids in zip(sources, got)) / len(got)


def _recall(store, vectors, queries, k: int) -> float:
    """Mean |HNSW top-k ∩ exact top-k| / k; exact = brute-force cosine over the same vectors in numpy."""
    import numpy as np

    got = store.collection.query(query_embeddings=queries, n_results=k, include=[])["ids"]
    exact = np.argpartition(-(vectors @ queries.T), k, axis=0)[:k].T  # the top-k set; order is irrelevant
    return float(np.mean([len({int(i[1:]) for i in ids} & set(e.tolist())) / k for ids, e in zip(got, exact)]))
