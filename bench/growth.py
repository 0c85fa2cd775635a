"""The "how cost grows" table: each figure at 1,000 / 10,000 / 100,000 chunks and its growth, read off the
measured figures (the slope of log(cost) against log(chunks)), never written by hand."""
from __future__ import annotations

import math

SIZES = (1_000, 10_000, 100_000)

# Slope k of log(cost) vs log(chunks): cost ∝ chunks^k. Over 1k → 100k, a cost growing like log(chunks)
# has k ≈ 0.1 (log 100,000 / log 1,000 = 1.67 for 100× the chunks), so the bands are:
GROWTH_BANDS = ((0.05, "flat"), (0.3, "logarithmic"), (0.8, "sub-linear"), (1.2, "linear"),
                (math.inf, "super-linear"))


def slope(points: dict[int, float]) -> float | None:
    """Least-squares slope of log(value) against log(chunks); None with fewer than two positive points."""
    xy = [(math.log(n), math.log(v)) for n, v in points.items() if v is not None and v > 0]
    if len(xy) < 2:
        return None
    mx, my = sum(x for x, _ in xy) / len(xy), sum(y for _, y in xy) / len(xy)
    return sum((x - mx) * (y - my) for x, y in xy) / sum((x - mx) ** 2 for x, _ in xy)


def growth_class(k: float | None) -> str | None:
    if k is None:
        return None
    return next(name for upper, name in GROWTH_BANDS if k < upper)


def _row(figure: str, unit: str, points: dict[int, float | None], note: str = "") -> dict:
    points = {n: v for n, v in points.items() if v is not None}
    k = slope(points)
    kind = growth_class(k)
    sentence = "Measured at fewer than two sizes: no growth to read."
    if k is not None:
        lo, hi = min(points), max(points)
        sentence = (f"{kind.capitalize()}: {_fmt(points[lo], unit)} at {lo:,} chunks to {_fmt(points[hi], unit)} "
                    f"at {hi:,} ({hi // lo:,}× the chunks, ×{points[hi] / points[lo]:.2f} the cost); "
                    f"cost ∝ chunks^{k:.2f}.")
    return {"figure": figure, "unit": unit, "values": {str(n): points.get(n) for n in SIZES}, "slope": k,
            "growth": kind, "sentence": sentence + (f" {note}" if note else "")}


def _fmt(value: float, unit: str) -> str:
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def rows(scale: dict | None) -> list[dict]:
    """Growth rows from the scale section's data (an empty list when it did not run)."""
    if not scale:
        return []
    sizes = {s["chunks"]: s for s in scale["retrieval"].get("sizes") or []}
    ingested = {c["chunks"]: c for c in scale["corpora"] if c.get("chunks")}

    def at(source: dict, *path) -> dict[int, float | None]:
        out = {}
        for n in SIZES:
            value = source.get(n)
            for key in path:
                value = None if value is None else value.get(key)
            out[n] = value
        return out

    return [
        _row("Ingest with the real model (synthetic documents, one chunk each)", "s", at(ingested, "ingest_s"),
             "Not run at 100,000 chunks: at this rate it would take hours on this machine."),
        _row("Index build from synthetic vectors (no model: Chroma add + HNSW)", "s", at(sizes, "build_s"),
             "A reused build reports the time it took when it was built."),
        _row("Hybrid retrieval p50 (`HybridRetriever.invoke`)", "ms", at(sizes, "hybrid_query", "p50_ms")),
        _row("Hybrid retrieval p95", "ms", at(sizes, "hybrid_query", "p95_ms")),
        _row("Dense query p50 (Chroma HNSW)", "ms", at(sizes, "dense_query", "p50_ms")),
        _row("Dense query p95", "ms", at(sizes, "dense_query", "p95_ms")),
        _row("Index size on disk (synthetic-vector collection)", "MiB", at(sizes, "index_size_mb")),
        _row("Index size on disk after a real ingest", "MiB", at(ingested, "index_size_mb")),
        _row("Peak RSS of the process serving the index (no model)", "MiB", at(sizes, "query_process_peak_rss_mb")),
        _row("Peak RSS of a real ingest (model loaded)", "MiB", at(ingested, "peak_rss_mb")),
    ]
