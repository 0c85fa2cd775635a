"""The shared sliding-window limiter (HTTP per client, Slack per user) on its own, with a controllable clock."""
from __future__ import annotations

import pytest

from integrations.ratelimit import SlidingWindowLimiter, whole_seconds


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_limit_then_reports_wait_until_oldest_hit_leaves_window():
    clock = Clock()
    limiter = SlidingWindowLimiter(3, window=60, clock=clock)
    for step in range(3):
        assert limiter.hit("a") is None
        clock.now += 10
    # Hits at 1000, 1010, 1020; now 1030: the oldest leaves the window at 1060.
    assert limiter.hit("a") == 30
    assert whole_seconds(30) == 30
    clock.now = 1060.5
    assert limiter.hit("a") is None
    assert limiter.hit("a") is not None


def test_window_slides_so_a_boundary_burst_is_refused():
    clock = Clock()
    limiter = SlidingWindowLimiter(2, window=60, clock=clock)
    clock.now = 1059
    assert limiter.hit("a") is None and limiter.hit("a") is None
    clock.now = 1061  # a fixed per-minute counter would reset here
    assert limiter.hit("a") is not None


def test_clients_have_separate_budgets_and_idle_ones_are_forgotten():
    clock = Clock()
    limiter = SlidingWindowLimiter(1, window=60, clock=clock)
    assert limiter.hit("a") is None
    assert limiter.hit("b") is None
    assert limiter.hit("a") is not None
    assert len(limiter) == 2
    clock.now += 121
    assert limiter.hit("c") is None
    assert len(limiter) == 1


def test_waits_are_told_in_whole_seconds_of_at_least_one():
    assert whole_seconds(0.01) == 1
    assert whole_seconds(4.2) == 5


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError):
        SlidingWindowLimiter(0)
