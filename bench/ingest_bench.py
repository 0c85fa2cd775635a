"""Ingest of corpus/: cold (the real `partnership ingest` process), fresh index with the model loaded,
no-op re-ingest, one changed file, and raw embedding throughput of the same model on the same texts (each
chunk and its parts)."""
from __future__ import annotations

import json
import time
from pathlib import Path

from bench.context import Ctx, disk_usage_mb, partnership_command
from bench.proc import call_worker, child_env, run_measured
from bench.stats import ratio, spread

EDIT_MARK = " (edited by the benchmark)"


def run(ctx: Ctx) -> dict:
    plan = ctx.plan
    ctx.copy_corpus(ctx.corpus)
    env = child_env(PARTNERSHIP_DATA_DIR=str(ctx.index_dir), PARTNERSHIP_CORPUS_DIR=str(ctx.corpus))
    cold = run_measured(partnership_command() + ["ingest", "--json"], env, plan.timeout_s)
    if cold.returncode != 0:
        raise RuntimeError(f"`partnership ingest` exited {cold.returncode}: {cold.stderr.strip()[-400:]}")
    report = json.loads(cold.stdout)
    result, measured = call_worker("ingest_corpus", {"corpus": str(ctx.corpus), "workdir": str(ctx.workdir / "ingest"),
                                                     "repeats": plan.repeats}, ctx.workdir / "workers", plan.timeout_s)
    ingest_rate = result["fresh_index"]["chunks_per_s"]["median"]
    raw_rate = result["raw_embedding"]["chunks_per_s"]["median"]
    return {
        "cold_cli": {
            "command": "partnership ingest --json (new process, empty data dir)",
            "wall_s": cold.wall_s,
            "peak_rss_mb": cold.peak_rss_mb,
            "chunks": report["chunks"],
            "files": report["added"],
            "chunks_per_s_incl_startup": report["chunks"] / cold.wall_s,
        },
        **result,
        "ingest_over_raw": ratio(ingest_rate, raw_rate),
        "worker_peak_rss_mb": measured.peak_rss_mb,
        "index_size_mb": disk_usage_mb(ctx.index_dir),
    }


def _edit(path: Path, original: str) -> None:
    """Change one sentence in the middle of the file (touches one chunk, as a typo fix would)."""
    middle = original.index(". ", len(original) // 2)
    path.write_text(original[:middle] + EDIT_MARK + original[middle:], encoding="utf-8")


def _upsert_batch() -> int:
    from ingest.pipeline import EMBED_STEP

    return EMBED_STEP


def _per_file_batches(store) -> list[list[str]]:
    """The texts grouped as the ingest embeds them: files in order, EMBED_STEP chunks (with their parts) a
    call, a window (WINDOW_CHUNKS) at most."""
    from ingest.pipeline import EMBED_STEP, WINDOW_CHUNKS

    by_source: dict[str, list] = {}
    for _, doc in store.all_chunks():
        by_source.setdefault(doc.metadata.get("source", ""), []).append(doc)
    batches, window = [], []
    for docs in by_source.values():
        window += sorted(docs, key=lambda d: d.metadata.get("chunk_index", 0))
        if len(window) >= WINDOW_CHUNKS:
            batches += [store.texts_to_embed(window[i:i + EMBED_STEP])[1] for i in range(0, len(window), EMBED_STEP)]
            window = []
    batches += [store.texts_to_embed(window[i:i + EMBED_STEP])[1] for i in range(0, len(window), EMBED_STEP)]
    return batches


def worker(args: dict) -> dict:
    from assistant.config import Settings
    from assistant.embeddings import load_embeddings
    from assistant.store import ChunkStore
    from ingest.pipeline import ingest_paths

    corpus, root, repeats = Path(args["corpus"]), Path(args["workdir"]), int(args["repeats"])
    started = time.perf_counter()
    # As `partnership ingest` runs it: on ONNX Runtime, exported once (into this worker's folder) inside the load.
    embeddings = load_embeddings(encoder_dir=Settings(data_dir=root).encoders_path)
    model_load_s = time.perf_counter() - started

    fresh_s, raw_s, chunks, files = [], [], 0, 0
    for i in range(repeats):  # interleaved, so drifting machine load hits both alike
        settings = Settings(data_dir=root / f"fresh-{i}", corpus_dir=corpus)
        store = ChunkStore(settings, embeddings)
        t0 = time.perf_counter()
        report = ingest_paths([corpus], settings, store)
        fresh_s.append(time.perf_counter() - t0)
        if report.failed:
            raise RuntimeError(f"ingest failed: {report.failed}")
        chunks, files = report.chunks, report.added
        # Exactly what the ingest embedded: each chunk and its parts (title or question, each sentence).
        texts = store.texts_to_embed([doc for _, doc in store.all_chunks()])[1]
        t0 = time.perf_counter()
        embeddings.embed_documents(texts)
        raw_s.append(time.perf_counter() - t0)

    # Why ingest can lag the raw figure: the store embeds file by file, UPSERT_BATCH chunks at a time, so
    # the model's length-sorted batching only sees one file's chunks (more padding). Same texts, that pattern:
    t0 = time.perf_counter()
    for batch in _per_file_batches(store):
        embeddings.embed_documents(batch)
    per_file_batches_s = time.perf_counter() - t0

    noop_s = []
    for _ in range(max(3, repeats)):
        t0 = time.perf_counter()
        report = ingest_paths([corpus], settings, store)
        noop_s.append(time.perf_counter() - t0)
        if report.added or report.updated or report.removed:
            raise RuntimeError(f"re-ingest of the unchanged corpus was not a no-op: {report.to_dict()}")

    target = max((p for p in corpus.iterdir() if p.suffix == ".txt"), key=lambda p: p.stat().st_size)
    original = target.read_text(encoding="utf-8")
    changed_s, reembedded = [], []
    try:
        for _ in range(repeats):
            for restore in (False, True):  # edit, then put the original back: two one-file changes
                target.write_text(original, encoding="utf-8") if restore else _edit(target, original)
                before = set().union(*store.ids_by_source().values())
                t0 = time.perf_counter()
                report = ingest_paths([corpus], settings, store)
                changed_s.append(time.perf_counter() - t0)
                if report.updated != 1 or report.added or report.removed:
                    raise RuntimeError(f"one changed file gave {report.to_dict()}")
                reembedded.append(len(set().union(*store.ids_by_source().values()) - before))
    finally:
        target.write_text(original, encoding="utf-8")

    return {
        "files": files,
        "chunks": chunks,
        "model_load_s": model_load_s,
        "fresh_index": {"seconds": spread(fresh_s), "chunks_per_s": spread([chunks / s for s in fresh_s])},
        "raw_embedding": {"seconds": spread(raw_s), "chunks_per_s": spread([chunks / s for s in raw_s]),
                          "texts": len(texts),
                          "how": "embeddings.embed_documents(every distinct text the ingest embeds: chunks and their parts) in one call, batch size 32"},
        "raw_embedding_in_ingest_batches_s": per_file_batches_s,
        "upsert_batch": _upsert_batch(),
        "noop_reingest_s": spread(noop_s),
        "changed_file": {"file": target.name, "seconds": spread(changed_s),
                         "chunks_reembedded": spread(reembedded)},
    }
