"""`python -m bench --quick` end to end: it runs every area against the real model, Chroma, CLI and HTTP
server, and writes results that match the schema. Timings are not checked (they belong in the report)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from bench.report import COLD_START_OVER_TORCH, FULL_RUN_TARGETS
from bench.schema import SECTIONS, validate

REPO = Path(__file__).resolve().parents[2]


def _ordered(spread: dict) -> bool:
    return spread["n"] == 0 or spread["min"] <= spread["median"] <= spread["max"]


def _percentiles_ordered(lat: dict) -> bool:
    return lat["n"] > 0 and lat["p50_ms"] <= lat["p95_ms"] <= lat["p99_ms"] <= lat["max_ms"]


def test_quick_bench_writes_valid_results(tmp_path):
    out = tmp_path / "results"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERSHIP_") or k == "PARTNERSHIP_ENCODER_DIR"}
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(out)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]

    payload = json.loads((out / "latest.json").read_text())
    results = validate(payload)  # every section's data against its model
    assert results.quick is True
    assert set(results.sections) == set(SECTIONS)
    assert all(s.status == "ok" for s in results.sections.values())
    plan = payload["plan"]

    machine = payload["machine"]
    assert machine["cores"] >= 1 and machine["ram_gb"] > 0 and machine["cpu_model"]
    assert machine["packages"]["chromadb"] != "not installed"

    ingest = payload["sections"]["ingest"]["data"]
    assert ingest["cold_cli"]["chunks"] == ingest["chunks"] > 0
    assert ingest["cold_cli"]["peak_rss_mb"] > 50  # a Python process with torch and the model loaded
    for spread in (ingest["fresh_index"]["seconds"], ingest["raw_embedding"]["seconds"], ingest["noop_reingest_s"],
                   ingest["changed_file"]["seconds"]):
        assert spread["n"] >= 1 and _ordered(spread)
    assert ingest["changed_file"]["chunks_reembedded"]["min"] >= 1

    scale = payload["sections"]["scale"]["data"]
    assert [c["documents"] for c in scale["corpora"]] == plan["scale_docs"]
    for corpus in scale["corpora"]:
        assert corpus["error"] is None and corpus["chunks"] >= corpus["documents"]
    sizes = scale["retrieval"]["sizes"]
    assert [s["chunks"] for s in sizes] == plan["retrieval_chunks"]
    for size in sizes:
        assert _percentiles_ordered(size["dense_query"]) and size["dense_query"]["n"] == plan["retrieval_queries"]
        assert 0.0 <= size["recall_at_5_uniform_queries"] <= 1.0
        assert _percentiles_ordered(size["hybrid_query"]) and size["hybrid_hits_per_query"] > 0
        assert size["hnsw_m"] == Settings().hnsw_m and size["query_process_peak_rss_mb"] > 0

    answer = payload["sections"]["answer"]["data"]
    assert answer["cold_start"]["seconds"]["n"] == plan["cold_start_repeats"]
    warm = answer["warm"]
    assert warm["questions"] == plan["question_limit"] and warm["total"]["n"] == warm["questions"] - warm["errors"]
    assert _percentiles_ordered(warm["total"])

    levels = payload["sections"]["http"]["data"]["levels"]
    assert [lv["concurrency"] for lv in levels] == plan["http_levels"]
    for level in levels:
        assert level["requests"] == sum(level["statuses"].values()) == plan["http_requests"]

    baseline = payload["sections"]["baseline"]["data"]
    assert set(baseline["accuracy"]) == {"ours", "baseline"}
    assert baseline["accuracy"]["baseline"]["items"] == plan["question_limit"]

    targets = {t["id"]: t for t in payload["targets"]}
    assert set(targets) >= {"hybrid_p95_10k", "hybrid_p95_100k", "recall_near_100k", "cold_start", "http_8_rps",
                            "http_32_rps", "http_32_p95", "serve_rss", "ask_p50_over_baseline", "warm_ask_p95"}
    for id_, target in targets.items():  # every target was measured, except those at sizes --quick skips
        assert (target["met"] is None) == (id_ in FULL_RUN_TARGETS), target
    cold = answer["cold_start"]
    assert targets["cold_start"]["target"] == pytest.approx(COLD_START_OVER_TORCH * cold["import_torch_s"]["median"])
    growth = {row["figure"]: row for row in payload["growth"]}
    at_1k = next(size for size in sizes if size["chunks"] == 1000)
    assert growth["Hybrid retrieval p95"]["values"]["1000"] == at_1k["hybrid_query"]["p95_ms"]
    assert growth["Hybrid retrieval p95"]["values"]["100000"] is None, "--quick stops at 1,000 chunks"
    assert set(payload["ratios"]) and all(v is not None for v in payload["ratios"].values())

    report = (out / "latest.md").read_text()
    assert report.startswith("# Benchmark results") and "--quick run" in report
    for target in payload["targets"]:
        assert target["description"] in report
