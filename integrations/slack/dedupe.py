"""Slack re-sends an event when it did not see a fast 2xx (`X-Slack-Retry-Num` over HTTP,
`retry_attempt` in Socket Mode). Each event id is handled once; repeats are acknowledged and dropped."""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger("partnership.slack")

# Slack retries three times within about an hour at most; an hour of ids covers every retry.
DEFAULT_TTL_SECONDS = 3600.0
DEFAULT_MAX_IDS = 20_000


class EventDeduplicator:
    """Remembers recently seen event ids (bounded in time and count, thread-safe)."""

    def __init__(self, ttl_seconds: float = DEFAULT_TTL_SECONDS, max_ids: int = DEFAULT_MAX_IDS,
                 clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl_seconds
        self.max_ids = max_ids
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        """True the first time `event_id` is offered (and records it); False for every repeat."""
        now = self._clock()
        with self._lock:
            while self._seen:
                oldest, at = next(iter(self._seen.items()))
                if now - at <= self.ttl and len(self._seen) < self.max_ids:
                    break
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            return True

    def middleware(self, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:
        """Bolt global middleware: runs after signature verification, before any listener."""
        event_id = req.body.get("event_id") if isinstance(req.body, dict) else None
        if event_id and not self.first_time(event_id):
            retry = (req.headers.get("x-slack-retry-num") or [None])[0] or req.body.get("retry_attempt")
            log.info("dropping repeated Slack event %s (retry %s)", event_id, retry)
            return BoltResponse(status=200, body="")
        return next()
