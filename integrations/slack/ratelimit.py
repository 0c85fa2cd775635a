"""Per-user limit on questions to the bot, with a polite message when it is exceeded."""
from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class UserRateLimiter:
    """Sliding one-minute window of questions per Slack user (thread-safe, in memory)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, user_id: str) -> float | None:
        """Count one question; None when allowed, else the seconds until the next one is."""
        now = self._clock()
        with self._lock:
            hits = self._hits[user_id]
            while hits and now - hits[0] >= WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return WINDOW_SECONDS - (now - hits[0])
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle users so memory stays bounded
                for user in [u for u, h in self._hits.items() if not h or now - h[-1] >= WINDOW_SECONDS]:
                    del self._hits[user]
            return None

    def message(self, wait_seconds: float) -> str:
        seconds = max(1, math.ceil(wait_seconds))
        return (
            f":hourglass: You've asked {self.per_minute} questions in the last minute, which is my limit "
            f"per person. Please try again in {seconds} second{'s' if seconds != 1 else ''} — thank you!"
        )
