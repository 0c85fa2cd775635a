"""The report's Targets and "how cost grows" tables, from hand-made section data: every figure of issue 15
is a target row under its own name, targets computed from the run (cold start) use the run's figures, and
growth is read off the measured values (not written by hand)."""
from __future__ import annotations

import pytest

from bench import growth, markdown, report
from bench.schema import GrowthRow, Target

ISSUE_FIGURES = (
    "Hybrid retrieval p95 at 10,000 chunks",
    "Hybrid retrieval p95 at 100,000 chunks",
    "HNSW recall@5 vs exact, near queries, 100,000 chunks",
    "Cold start to first answer (`partnership ask`, index built)",
    "HTTP `/ask` throughput, 8 concurrent clients",
    "HTTP `/ask` throughput, 32 concurrent clients",
    "`partnership serve` peak RSS",
    "Warm ask p50, ours / naive baseline (same run)",
)


def _lat(p50: float, p95: float) -> dict:
    return {"n": 10, "p50_ms": p50, "p95_ms": p95, "p99_ms": p95, "mean_ms": p50, "max_ms": p95}


def _size(chunks: int, hybrid_p95: float, near: float, build_s: float, disk: float, rss: float) -> dict:
    return {"chunks": chunks, "build_s": build_s, "build_reused": False, "hnsw_m": 32, "ef_construction": 400,
            "ef_search": 400, "dense_query": _lat(hybrid_p95 / 4, hybrid_p95 / 2), "hybrid_query": _lat(hybrid_p95 / 2, hybrid_p95),
            "recall_at_5_uniform_queries": near - 0.1, "recall_at_5_near_queries": near,
            "near_source_found_at_5": 1.0, "index_size_mb": disk, "query_process_peak_rss_mb": rss}


def _level(concurrency: int, rps: float, p95: float, errors: int = 0) -> dict:
    return {"concurrency": concurrency, "requests": 200, "wall_s": 200 / rps, "requests_per_s": rps,
            "latency": _lat(p95 / 2, p95), "statuses": {"200": 200 - errors, "500": errors}, "errors": errors}


def _spread(median: float) -> dict:
    return {"n": 3, "min": median, "median": median, "max": median}


def sections(*, ask_s: float = 3.0, torch_s: float = 1.5, rps_32: float = 33.0, rss_mib: float = 650.0) -> dict:
    scale = {"corpora": [{"documents": 1000, "chunks": 1000, "ingest_s": 20.0, "index_size_mb": 10.0, "peak_rss_mb": 700.0},
                         {"documents": 10000, "chunks": 10000, "ingest_s": 200.0, "index_size_mb": 60.0, "peak_rss_mb": 900.0}],
             "retrieval": {"sizes": [_size(1000, 10.0, 1.0, 1.0, 6.0, 150.0), _size(10_000, 20.0, 0.99, 10.0, 44.0, 160.0),
                                     _size(100_000, 40.0, 0.96, 100.0, 300.0, 170.0)]}}
    data = {
        "scale": scale,
        "answer": {"cold_start": {"seconds": _spread(ask_s), "import_torch_s": _spread(torch_s), "peak_rss_mb": 500.0},
                   "warm": {"total": _lat(40.0, 90.0)}},
        "http": {"levels": [_level(1, 20.0, 80.0), _level(8, 40.0, 400.0), _level(32, rps_32, 1400.0)],
                 "server_peak_rss_mb": rss_mib},
        "baseline": {"ask_ours": _lat(30.0, 50.0), "ask_baseline": _lat(25.0, 40.0)},
        "ingest": {"noop_reingest_s": _spread(0.03), "ingest_over_raw": 0.95},
    }
    return {name: {"status": "ok", "seconds": 1.0, "data": d} for name, d in data.items()}


def by_id(rows: list[dict]) -> dict[str, dict]:
    return {row["id"]: row for row in rows}


def test_every_figure_of_the_issue_is_a_target_row_under_its_name():
    rows = report.targets(sections())
    for row in rows:
        Target.model_validate(row)
    for figure in ISSUE_FIGURES:
        assert any(row["description"].startswith(figure) for row in rows), figure
    retired = ("recall_uniform", "hybrid_p95")  # the old ≥ 0.98 uniform and "largest timed" rows
    assert not set(retired) & set(by_id(rows))


def test_each_condition_of_a_target_is_checked():
    t = by_id(report.targets(sections()))
    assert (t["hybrid_p95_10k"]["value"], t["hybrid_p95_10k"]["met"]) == (20.0, True)
    assert (t["hybrid_p95_100k"]["value"], t["hybrid_p95_100k"]["met"]) == (40.0, True)
    assert t["recall_near_100k"]["value"] == 0.96 and t["recall_near_100k"]["met"]
    assert "build 100 s, 300 MiB on disk" in t["recall_near_100k"]["description"]
    assert t["http_8_rps"]["met"] and t["http_8_errors"]["met"]
    assert t["http_32_rps"]["met"] and t["http_32_p95"]["met"] and t["http_32_errors"]["met"]
    assert t["ask_p50_over_baseline"]["value"] == pytest.approx(1.2) and t["ask_p50_over_baseline"]["met"]

    worse = by_id(report.targets(sections(rps_32=31.0, rss_mib=700.0)))
    assert not worse["http_32_rps"]["met"]
    assert worse["serve_rss"]["value"] == pytest.approx(734.0, abs=0.1), "700 MiB is 734 MB"
    assert not worse["serve_rss"]["met"]


def test_the_cold_start_target_is_computed_from_import_torch_in_the_same_run():
    met = by_id(report.targets(sections(ask_s=3.0, torch_s=1.5)))["cold_start"]
    assert met["target"] == pytest.approx(3.75) and met["value"] == 3.0 and met["met"]
    assert "1.50 s" in met["description"] and "ratio 2.00" in met["description"]
    missed = by_id(report.targets(sections(ask_s=4.0, torch_s=1.5)))["cold_start"]
    assert missed["met"] is False and "ratio 2.67" in missed["description"]


def test_a_failed_section_leaves_its_targets_not_measured():
    failed = sections()
    failed["answer"] = {"status": "error", "seconds": 1.0, "error": "boom", "data": {}}
    cold = by_id(report.targets(failed))["cold_start"]
    assert cold["value"] is None and cold["target"] is None and cold["met"] is None


@pytest.mark.parametrize(("values", "kind"), [
    ((5.0, 5.1, 4.9), "flat"),
    ((10.0, 100.0, 1000.0), "linear"),
    ((10.0, 11.3, 12.6), "logarithmic"),   # + constant per 10×: grows like log(chunks)
    ((10.0, 40.0, 160.0), "sub-linear"),
    ((1.0, 50.0, 2500.0), "super-linear"),
])
def test_growth_is_read_off_the_figures(values, kind):
    points = dict(zip(growth.SIZES, values))
    assert growth.growth_class(growth.slope(points)) == kind


def test_growth_rows_follow_the_measured_sizes():
    rows = report.growth(sections())
    for row in rows:
        GrowthRow.model_validate(row)
    build = next(r for r in rows if r["figure"].startswith("Index build"))
    assert build["values"] == {"1000": 1.0, "10000": 10.0, "100000": 100.0}
    assert build["growth"] == "linear" and build["slope"] == pytest.approx(1.0)
    assert build["sentence"].startswith("Linear: ")
    ingest = next(r for r in rows if r["figure"].startswith("Ingest with the real model"))
    assert ingest["values"]["100000"] is None and ingest["growth"] == "linear"
    rss = next(r for r in rows if r["figure"].startswith("Peak RSS of the process serving"))
    assert rss["growth"] == "flat"


def test_the_report_shows_the_growth_table():
    text = "\n".join(markdown._growth({"growth": report.growth(sections())}))
    assert text.startswith("## How cost grows")
    assert "| Figure | 1,000 chunks | 10,000 chunks | 100,000 chunks | Growth |" in text
    for row in report.growth(sections()):
        assert f"| {row['figure']} |" in text and row["sentence"] in text
