"""Per-user limit on questions to the bot, with a polite message when it is exceeded.

The window itself is the shared `integrations.ratelimit.SlidingWindowLimiter`; this module only adds
Slack's wording.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from integrations.ratelimit import SlidingWindowLimiter, whole_seconds

WINDOW_SECONDS = 60.0


class UserRateLimiter(SlidingWindowLimiter):
    """Sliding one-minute window of questions per Slack user (thread-safe, in memory)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        super().__init__(per_minute, window=WINDOW_SECONDS, clock=clock)

    @property
    def per_minute(self) -> int:
        return self.limit

    def message(self, wait_seconds: float) -> str:
        seconds = whole_seconds(wait_seconds)
        return (
            f":hourglass: You've asked {self.per_minute} questions in the last minute, which is my limit "
            f"per person. Please try again in {seconds} second{'s' if seconds != 1 else ''} — thank you!"
        )
