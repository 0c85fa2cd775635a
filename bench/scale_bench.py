"""Scale: ingest of synthetic corpora (1k and 10k documents), and retrieval latency (dense and the whole
hybrid retriever), HNSW recall and the serving process's RSS at 1k/10k/100k chunks, with synthetic vectors
inserted straight into a collection opened by ChunkStore."""
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
NEAR_NOISE = 1.0  # a unit-norm perturbation of this size puts the query at cosine ≈ 0.71 from its source
CHUNKS_PER_DOC = 50  # synthetic chunks per commit record (a corpus document has tens of chunks)


def run(ctx: Ctx) -> dict:
    plan = ctx.plan
    corpora = [_ingest_synthetic(ctx, n) for n in plan.scale_docs]
    try:
        retrieval = {**DESCRIPTION, "sizes": [_retrieval_at(ctx, n) for n in plan.retrieval_chunks]}
    except WorkerError as exc:
        retrieval = {**DESCRIPTION, "error": str(exc), "sizes": []}
    shutil.rmtree(ctx.workdir / "vectors", ignore_errors=True)  # the cache (ctx.vector_cache) is kept
    return {
        "generator": (f"bench/synthetic.py: random.Random(seed={synthetic.SEED}) fills {len(synthetic.PARAGRAPHS)} "
                      f"paragraph templates (fees, phases, priorities, governance, Q&A) for partnerships named "
                      f"from {len(synthetic.PLACES)} places x {len(synthetic.SUFFIXES)} suffixes; "
                      f"{plan.scale_paragraphs} paragraph(s) per document after a title line"),
        "corpora": corpora,
        "retrieval": retrieval,
    }


DESCRIPTION = {
    "vectors": f"synthetic: uniform on the {synthetic.DIM}-d unit sphere, numpy seed {synthetic.SEED}",
    "texts": "synthetic paragraphs and section titles from bench/synthetic.py (for BM25 and title matching in "
             "the hybrid retriever; titles get text-seeded synthetic vectors). The synthetic index has no "
             "parts (sentence vectors): the parts ranker's search returns nothing here, so a real index of the "
             "same size, with about five parts a chunk, pays one more HNSW search over a larger collection",
    "uniform_queries": "random unit vectors (the hardest case for HNSW: no structure)",
    "near_queries": "a stored vector plus unit-norm noise (cosine ≈ 0.71, like a question and its chunk)",
}


def _retrieval_at(ctx: Ctx, n: int) -> dict:
    """One collection size, three processes: build (or reuse) it; recall against exact search; then the
    timed queries, alone in their process so its peak RSS is what serving that index holds (no model)."""
    plan, workers = ctx.plan, ctx.workdir / "workers"
    args = {"chunks": n, "root": str(ctx.vector_cache or ctx.workdir / "vectors"), "queries": plan.retrieval_queries,
            "hybrid_queries": plan.hybrid_queries}
    built, _ = call_worker("retrieval_build", args, workers, plan.vector_build_timeout_s, label=f"retrieval_build_{n}")
    args["folder"] = built["folder"]
    recall, _ = call_worker("retrieval_recall", args, workers, plan.timeout_s, label=f"retrieval_recall_{n}")
    timed, measured = call_worker("retrieval_query", args, workers, plan.timeout_s, label=f"retrieval_query_{n}")
    return {"chunks": n, **built, **recall, **timed, "query_process_peak_rss_mb": measured.peak_rss_mb}


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

    settings = Settings(data_dir=Path(args["data_dir"]), corpus_dir=Path(args["corpus"]))
    started = time.perf_counter()
    embeddings = load_embeddings(encoder_dir=settings.encoders_path)  # as `partnership ingest`: ONNX Runtime
    model_load_s = time.perf_counter() - started
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


def _near_queries(vectors, n_queries: int):
    """(source indices, queries): each a stored vector plus NEAR_NOISE of unit-norm noise."""
    import numpy as np

    n = len(vectors)
    rng = np.random.default_rng(synthetic.SEED + 3)
    sources = rng.choice(n, size=n_queries, replace=n < n_queries)
    near = vectors[sources] + NEAR_NOISE * synthetic.unit_vectors(n_queries, seed=synthetic.SEED + 4)
    return sources, near / np.linalg.norm(near, axis=1, keepdims=True)


def _uniform_queries(n_queries: int):
    return synthetic.unit_vectors(n_queries, seed=synthetic.SEED + 1)


def build_worker(args: dict) -> dict:
    n = int(args["chunks"])
    return _build_or_reuse(n, Path(args["root"]))


def recall_worker(args: dict) -> dict:
    """Recall@5 of the collection as every process opens it (ChunkStore: M, ef_search for its size)."""
    from assistant.config import Settings
    from assistant.store import ChunkStore

    n, n_queries = int(args["chunks"]), int(args["queries"])
    settings = Settings(data_dir=Path(args["folder"]))
    store = ChunkStore(settings, embeddings=None)
    vectors = synthetic.unit_vectors(n)
    sources, near = _near_queries(vectors, n_queries)
    hnsw = store.collection.configuration["hnsw"]
    return {"hnsw_m": hnsw["max_neighbors"], "ef_construction": hnsw["ef_construction"],
            "ef_search": hnsw["ef_search"], "index_size_mb": disk_usage_mb(settings.data_dir),
            "recall_at_5_uniform_queries": _recall(store, vectors, _uniform_queries(n_queries), 5),
            "recall_at_5_near_queries": _recall(store, vectors, near, 5),
            "near_source_found_at_5": _source_found(store, sources, near, 5)}


def query_worker(args: dict) -> dict:
    """Dense queries (what HybridRetriever asks Chroma for) and whole HybridRetriever.invoke calls."""
    from assistant.config import Settings
    from assistant.retrieval import CANDIDATES, HybridRetriever, QueryEmbedder
    from assistant.store import ChunkStore

    settings = Settings(data_dir=Path(args["folder"]))
    store = ChunkStore(settings, embeddings=None)
    queries = _uniform_queries(int(args["queries"]))
    for q in queries[:5]:  # warm the index into memory
        store.query(q.tolist(), CANDIDATES)
    dense = []
    for q in queries:
        t0 = time.perf_counter()
        store.query(q.tolist(), CANDIDATES)
        dense.append(time.perf_counter() - t0)

    query_texts = synthetic.texts(int(args["hybrid_queries"]), seed=synthetic.SEED + 2)
    embedder = QueryEmbedder(_TableEmbeddings(dict(zip(query_texts, queries))))
    retriever = HybridRetriever(store=store, query_embedder=embedder, k=settings.top_k)
    t0 = time.perf_counter()
    retriever.lexical()
    bm25_build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    retriever.invoke("warm-up question")  # the first query also embeds every section title
    first_s = time.perf_counter() - t0
    hybrid, found = [], 0
    for text in query_texts:
        t0 = time.perf_counter()
        found += len(retriever.invoke(text))
        hybrid.append(time.perf_counter() - t0)
    return {"candidates": CANDIDATES, "dense_query": latency(dense), "bm25_build_s": bm25_build_s,
            "first_hybrid_query_s": first_s, "hybrid_query": latency(hybrid),
            "hybrid_hits_per_query": found / len(query_texts)}  # > 0: it searched committed chunks


LAYOUT = "text1"  # bump when what a cached collection holds changes (texts, metadata, commit records)


def collection_folder(root: Path, n: int) -> Path:
    """Where the collection of `n` synthetic chunks lives: named by everything fixed when it is built (size,
    seed, M, ef_construction, chromadb version), so changing any of them builds a new one. ef_search is
    not in the name: ChunkStore sets it whenever it opens a collection."""
    import chromadb

    from assistant.config import Settings

    s = Settings()
    return root / (f"chunks-{n}-seed{synthetic.SEED}-M{s.hnsw_m}-efc{s.hnsw_ef}-{LAYOUT}"
                   f"-chromadb{chromadb.__version__}")


def _build_or_reuse(n: int, root: Path) -> dict:
    """A ChunkStore holding `n` synthetic chunks: built now, or reused from `root` if an earlier run built
    the identical one (the HNSW build is the slow part)."""
    from assistant.config import Settings
    from assistant.store import ChunkStore

    folder = collection_folder(root, n)
    marker = folder / "bench-built.json"
    settings = Settings(data_dir=folder)
    if marker.exists():
        if ChunkStore(settings, embeddings=None).raw_count() == n:
            built = json.loads(marker.read_text())
            return {**built, "folder": str(folder), "vectors_per_s": n / built["build_s"], "build_reused": True}
        shutil.rmtree(folder)  # incomplete or stale: build again
    shutil.rmtree(folder, ignore_errors=True)  # a build killed before its marker
    store = ChunkStore(settings, embeddings=None)  # same collection config; vectors go in directly
    vectors = synthetic.unit_vectors(n)
    ids = [f"c{i}" for i in range(n)]
    texts = synthetic.texts(n)
    # Section titles and sources as real chunks have them (the retriever also matches titles).
    metas = [{"source": f"synthetic-{i // CHUNKS_PER_DOC:06d}.txt", "section": title}
             for i, title in enumerate(synthetic.titles(n))]
    batch = min(5000, store.client.get_max_batch_size())
    started = time.perf_counter()
    for start in range(0, n, batch):
        store.collection.add(ids=ids[start:start + batch], embeddings=vectors[start:start + batch],
                             documents=texts[start:start + batch], metadatas=metas[start:start + batch])
    build_s = time.perf_counter() - started
    for start in range(0, n, CHUNKS_PER_DOC):  # readers (BM25, titles) only see committed documents
        store.commit(metas[start]["source"], ids[start:start + CHUNKS_PER_DOC], "synthetic", "synthetic")
    store.fit_search_ef()  # as an ingest's last step does, so the processes measuring it open it right
    built = {"build_s": build_s, "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
             "load_avg_at_build": [round(x, 2) for x in os.getloadavg()]}
    marker.write_text(json.dumps(built))
    return {**built, "folder": str(folder), "vectors_per_s": n / build_s, "build_reused": False}


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
