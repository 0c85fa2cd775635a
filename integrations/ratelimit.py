"""The sliding-window rate limiter both adapters use: HTTP per client, Slack per user.

Framework-free (no FastAPI or Slack imports): each adapter keeps its own wording of the refusal, a 429
with `Retry-After` over HTTP, a polite ephemeral message in Slack. In process and thread-safe; one
uvicorn worker or one bot process shares a limiter.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """Allows at most `limit` hits per `window` seconds for each key (a client, a Slack user).

    A sliding window (timestamps of the recent hits) rather than fixed minutes, so a caller cannot
    burst twice the limit across a minute boundary.

    Args:
        limit: hits allowed per window for one key; at least 1.
        window: the window's length in seconds.
        clock: monotonic seconds; tests pass a controllable one.
    """

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        if limit < 1:
            raise ValueError("the rate limit must be at least 1 per window")
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def hit(self, key: str) -> float | None:
        """Record a hit for `key`.

        Returns:
            None if allowed, else the seconds until the oldest hit leaves the window (not recorded).
        """
        now = self.clock()
        with self._lock:
            self._sweep(now)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(hits[0] + self.window - now, 0.0)
            hits.append(now)
            return None

    def _sweep(self, now: float) -> None:
        # Forget idle keys now and then so a long-running process's table stays small.
        if now - self._last_sweep < self.window:
            return
        self._last_sweep = now
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]:
            del self._hits[key]

    def __len__(self) -> int:
        return len(self._hits)


def whole_seconds(wait: float) -> int:
    """A wait from `hit` as the whole seconds to tell a caller: rounded up, at least 1."""
    return max(1, math.ceil(wait))
