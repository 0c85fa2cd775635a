"""The naive LangChain RAG baseline (eval/baseline.py: RecursiveCharacterTextSplitter 1000/200, Chroma
similarity top-4, the same embeddings object) side by side with the assistant: ingest time, ask latency,
and both systems' accuracy from the eval harness (eval.runner.evaluate) on the same questions."""
from __future__ import annotations

import time

from bench.context import Ctx
from bench.proc import call_worker
from bench.stats import latency, spread

ACCURACY_KEYS = ("pass_rate", "fact_coverage", "recall_at_5", "mrr", "citation_precision", "decline_accuracy",
                 "calc_exact", "errors", "items")


def run(ctx: Ctx) -> dict:
    plan = ctx.plan
    result, measured = call_worker(
        "baseline", {"corpus": str(ctx.corpus), "data_dir": str(ctx.require_index()), "questions": ctx.questions,
                     "repeats": plan.repeats, "item_limit": plan.question_limit},
        ctx.workdir / "workers", plan.timeout_s)
    return {**result, "questions_source": ctx.questions_source, "worker_peak_rss_mb": measured.peak_rss_mb}


def _own_loop(system, questions: list[str]) -> list[float]:
    times = []
    for question in questions:
        started = time.perf_counter()
        system.ask(question)
        times.append(time.perf_counter() - started)
    return times


def worker(args: dict) -> dict:
    from pathlib import Path

    from assistant.config import Settings
    from assistant.embeddings import load_embeddings
    from assistant.factory import build_assistant
    from eval.baseline import NaiveRAG

    corpus, repeats = Path(args["corpus"]), int(args["repeats"])
    embeddings = load_embeddings()
    ingest_s, baseline = [], None
    for _ in range(repeats):
        if baseline:
            baseline.close()
        started = time.perf_counter()
        baseline = NaiveRAG(corpus, embeddings)  # split + embed + Chroma add, in a fresh temporary dir
        ingest_s.append(time.perf_counter() - started)
    ours = build_assistant(Settings(data_dir=Path(args["data_dir"]), corpus_dir=corpus), embeddings=embeddings)
    ours.ask(args["questions"][0])  # lazily built BM25 index: not part of a warm ask
    ours.retriever.query_embedder.cache_clear()
    try:
        systems = {"ours": ours, "baseline": baseline}
        accuracy, times = _through_eval(systems, args.get("item_limit"))
        if times is None:  # no harness: time the same questions with a plain loop
            times = {name: _own_loop(system, args["questions"]) for name, system in systems.items()}
        return {
            "pipeline": "eval/baseline.py NaiveRAG: RecursiveCharacterTextSplitter(1000, 200), "
                        "langchain_chroma.Chroma similarity_search k=4, answer = top chunk",
            "chunks": baseline.chunk_count,
            "ingest_s": spread(ingest_s),
            "ask_latency_from": "the eval harness's per-item ask timing" if accuracy.get("ours") else "a plain loop",
            "ask_ours": latency(times["ours"]),
            "ask_baseline": latency(times["baseline"]),
            "accuracy": accuracy,
        }
    finally:
        baseline.close()


def _through_eval(systems: dict, limit: int | None) -> tuple[dict, dict | None]:
    """Both systems through the eval harness on the eval dataset: (overall figures, ask times per system)."""
    try:
        from eval.runner import evaluate
        from eval.schema import load_dataset

        items = load_dataset()[:limit] if limit else load_dataset()
    except Exception as exc:  # the harness is someone else's moving part: report, don't crash the bench
        return {"error": f"eval harness unavailable: {exc.__class__.__name__}: {exc}"}, None
    accuracy, times = {}, {}
    for name, system in systems.items():
        run = evaluate(system, items, name=name)
        accuracy[name] = {k: run.summary["overall"].get(k) for k in ACCURACY_KEYS}
        times[name] = [r.latency_s for r in run.results if r.latency_s is not None]
    return accuracy, times
