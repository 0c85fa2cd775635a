"""Answering: cold start to first answer (a real `partnership ask` process) and warm `Assistant.ask`
latency over the eval questions, split into retrieval and answer time."""
from __future__ import annotations

import time

from bench import torch_import
from bench.context import Ctx, partnership_command
from bench.proc import call_worker, child_env, run_measured
from bench.stats import latency, spread


def run(ctx: Ctx) -> dict:
    plan = ctx.plan
    index = ctx.require_index()
    question = ctx.questions[0]
    env = child_env(PARTNERSHIP_DATA_DIR=str(index), PARTNERSHIP_CORPUS_DIR=str(ctx.corpus))
    walls, rss, torch_s = [], [], []
    for _ in range(plan.cold_start_repeats):
        done = run_measured(partnership_command() + ["ask", question], env, plan.timeout_s)
        if done.returncode != 0 or not done.stdout.strip():
            raise RuntimeError(f"`partnership ask` exited {done.returncode}: {done.stderr.strip()[-400:]}")
        walls.append(done.wall_s)
        rss.append(done.peak_rss_mb)
        torch_s.append(torch_import.time_once(plan.timeout_s))  # interleaved: the same load hits both
    warm, measured = call_worker("answer_warm", {"data_dir": str(index), "corpus": str(ctx.corpus),
                                                 "questions": ctx.questions, "passes": plan.repeats},
                                 ctx.workdir / "workers", plan.timeout_s)
    return {
        "cold_start": {"command": f"partnership ask {question!r} (new process; index already built)",
                       "seconds": spread(walls), "peak_rss_mb": max(rss),
                       "import_torch_s": spread(torch_s)},  # `python -c "import torch"`, new process
        "warm": {"questions_source": ctx.questions_source, **warm, "worker_peak_rss_mb": measured.peak_rss_mb},
    }


def worker(args: dict) -> dict:
    from pathlib import Path

    t0 = time.perf_counter()
    from assistant.config import Settings
    from assistant.embeddings import load_embeddings
    from assistant.factory import build_assistant
    imports_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    settings = Settings(data_dir=Path(args["data_dir"]), corpus_dir=Path(args["corpus"]))
    embeddings = load_embeddings(encoder_dir=settings.encoders_path)  # as `partnership ask`: ONNX Runtime
    model_load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    assistant = build_assistant(settings, embeddings=embeddings)
    build_s = time.perf_counter() - t0
    questions = args["questions"]
    t0 = time.perf_counter()
    assistant.ask(questions[0])  # builds the BM25 index lazily
    first_ask_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warmed = assistant.warm_sentences()  # what serve and slack do in the background at start
    warm_s = time.perf_counter() - t0

    retrieve = assistant.retrieve
    spent: list[float] = []

    def timed_retrieve(*a, **kw):  # instance attribute shadows the method: ask() calls this one
        started = time.perf_counter()
        try:
            return retrieve(*a, **kw)
        finally:
            spent.append(time.perf_counter() - started)

    assistant.retrieve = timed_retrieve
    total, retrieval, answer, pass_p95, errors, no_retrieval = [], [], [], [], 0, 0
    for _ in range(int(args["passes"])):
        # A fresh query-vector cache per pass: each question pays for its embedding, as a new one would.
        assistant.retriever.query_embedder.cache_clear()
        this_pass = []
        for question in questions:
            spent.clear()
            started = time.perf_counter()
            try:
                assistant.ask(question)
            except Exception:  # counted, not fatal: the eval harness judges answers, we judge time
                errors += 1
                continue
            elapsed = time.perf_counter() - started
            got = sum(spent)
            no_retrieval += not spent  # answered by the calculator router without retrieval
            total.append(elapsed)
            retrieval.append(got)
            answer.append(elapsed - got)
            this_pass.append(elapsed)
        pass_p95.append(latency(this_pass)["p95_ms"] or 0.0)
    return {
        "questions": len(questions),
        "passes": int(args["passes"]),
        "errors": errors,
        "answered_without_retrieval": no_retrieval,
        "total": latency(total),
        "retrieval": latency(retrieval),
        "answer": latency(answer),
        "p95_ms_per_pass": spread(pass_p95),
        "sentence_warm": {"sentences": warmed, "seconds": warm_s},
        "in_process_breakdown_s": {"imports": imports_s, "model_load": model_load_s,
                                   "build_assistant": build_s, "first_ask": first_ask_s},
    }
