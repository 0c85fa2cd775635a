"""Small summaries used by every bench: spread over repeats and latency percentiles."""
from __future__ import annotations

import statistics
from collections.abc import Sequence

import numpy as np


def spread(values: Sequence[float]) -> dict:
    """min/median/max over repeats of a noisy figure (an empty list gives None values)."""
    values = [float(v) for v in values]
    if not values:
        return {"n": 0, "min": None, "median": None, "max": None}
    return {"n": len(values), "min": min(values), "median": statistics.median(values), "max": max(values)}


def latency(seconds: Sequence[float]) -> dict:
    """Percentiles in milliseconds (linear interpolation, as numpy does by default)."""
    ms = np.asarray([s * 1000.0 for s in seconds], dtype=float)
    if ms.size == 0:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "mean_ms": None, "max_ms": None}
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return {"n": int(ms.size), "p50_ms": float(p50), "p95_ms": float(p95), "p99_ms": float(p99),
            "mean_ms": float(ms.mean()), "max_ms": float(ms.max())}


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return float(numerator) / float(denominator)
