"""Bounded load against the real `partnership serve` process: 2,000 requests, 32 at a time."""
from __future__ import annotations

import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx


TOTAL = 2000
CONCURRENCY = 32
# Between the first and the last 500 requests the server's resident memory may not grow more than this.
MEMORY_GROWTH_BOUND = 96 * 1024 * 1024
QUESTIONS = [
    "Who sits on the ELP board?",
    "What does the Hillingdon Learning Partnership offer schools?",
    "How much does the council contribute to the Ealing Learning Partnership?",
    "Can we just buy the bits of ELP we want?",
]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


def one_request(http: httpx.Client, i: int) -> tuple[int, float]:
    kind = i % 4
    started = time.perf_counter()
    if kind == 0:
        response = http.post("/ask", json={"question": QUESTIONS[(i // 4) % len(QUESTIONS)] + f" ({i})"})
    elif kind == 1:
        response = http.get("/documents")
    elif kind == 2:
        response = http.post("/ask", json={"question": ""})  # an intended 422, handled cheaply
    else:
        response = http.get("/readyz")
    return response.status_code, time.perf_counter() - started


def test_2000_requests_32_concurrent_no_errors_bounded_memory(live_server, tmp_path):
    expected = {0: 200, 1: 200, 2: 422, 3: 200}
    pid = live_server.process.pid
    results: list[tuple[int, float]] = []
    with httpx.Client(base_url=live_server.url, timeout=120,
                      limits=httpx.Limits(max_connections=CONCURRENCY)) as http, \
            ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        started = time.perf_counter()
        for batch_start in range(0, TOTAL, 500):
            results += pool.map(lambda i: one_request(http, i), range(batch_start, batch_start + 500))
            if batch_start == 0:
                rss_after_first = rss_bytes(pid)
        elapsed = time.perf_counter() - started
    rss_after_last = rss_bytes(pid)

    wrong = [(i, status) for i, (status, _) in enumerate(results) if status != expected[i % 4] and status != 429]
    assert wrong == [], f"unexpected statuses: {wrong[:10]}"
    latencies = sorted(seconds for _, seconds in results)
    report = {
        "requests": TOTAL, "concurrency": CONCURRENCY, "seconds": round(elapsed, 2),
        "requests_per_second": round(TOTAL / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(0.95 * len(latencies)) - 1] * 1000, 1),
        "rate_limited": sum(1 for status, _ in results if status == 429),
        "rss_after_first_500_mb": round(rss_after_first / 2**20, 1),
        "rss_after_last_500_mb": round(rss_after_last / 2**20, 1),
        "memory_growth_bound_mb": MEMORY_GROWTH_BOUND // 2**20,
    }
    target = Path(os.environ.get("PARTNERSHIP_BENCH_REPORT_DIR") or tmp_path) / "http_load.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))
    assert rss_after_last - rss_after_first <= MEMORY_GROWTH_BOUND, report
