"""Durable store of thumbs-up/down feedback given over HTTP and Slack (SQLite under the data dir)."""
from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError

SOURCES = ("http", "slack")
RATINGS = ("up", "down")
COLUMNS = ("id", "created_at", "source", "user_id", "channel", "question", "answer", "rating", "comment")
# How long a writer waits for another process's write to finish before giving up ("database is locked").
# `serve` and `slack` are separate processes writing to the same file; a write takes milliseconds.
BUSY_TIMEOUT_S = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('http', 'slack')),
    user_id    TEXT,
    channel    TEXT,
    question   TEXT NOT NULL,
    answer     TEXT NOT NULL,
    rating     TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment    TEXT
)
"""


class FeedbackError(AssistantError, ValueError):
    """Feedback that cannot be stored (unknown rating or source)."""


class FeedbackStore:
    """Append-only feedback table in one SQLite file, safe to share between threads and processes.

    Every statement is parameterised: questions, answers and comments are user text and must never
    become SQL. A connection is opened per call, so one store can be shared by request threads. The file
    is in WAL mode and every connection waits up to BUSY_TIMEOUT_S for another writer, so the HTTP
    service and the Slack bot can write at once without losing a row.

    Args:
        path: the SQLite file (created, with its folder, if absent).
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as conn, conn:
            # WAL: readers (an export, `doctor`) never block the writer, and writers queue on the busy
            # timeout instead of failing. The mode is stored in the file, so every later connection has it.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
        # Python's `timeout` installs the same handler; set it by name so the guarantee is visible here.
        # synchronous stays FULL (the default): a stored rating survives a power cut.
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        conn.row_factory = sqlite3.Row
        return conn

    def add(
        self,
        *,
        source: str,
        question: str,
        answer: str,
        rating: str,
        comment: str | None = None,
        user_id: str | None = None,
        channel: str | None = None,
    ) -> int:
        """Store one piece of feedback and return its id.

        Raises:
            FeedbackError: `rating` is not "up"/"down" or `source` is not "http"/"slack".
        """
        if rating not in RATINGS:
            raise FeedbackError(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}.")
        if source not in SOURCES:
            raise FeedbackError(f"source must be one of {', '.join(SOURCES)}, not {source!r}.")
        created_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with closing(self._connect()) as conn, conn:
            cursor = conn.execute(
                "INSERT INTO feedback (created_at, source, user_id, channel, question, answer, rating, comment)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (created_at, source, user_id, channel, question, answer, rating, comment),
            )
            return int(cursor.lastrowid)

    def count(self) -> int:
        """How many feedback rows are stored."""
        with closing(self._connect()) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def all(self) -> list[dict[str, Any]]:
        """Every stored feedback row, oldest first."""
        with closing(self._connect()) as conn:
            rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id").fetchall()
        return [dict(row) for row in rows]


def stored_rows(path: Path | str) -> int | None:
    """How many rows an existing feedback file holds, read without creating or changing it.

    Returns:
        The row count, or None when there is no feedback file yet.

    Raises:
        sqlite3.Error: the file exists but cannot be read as a feedback database.
    """
    path = Path(path)
    if not path.exists():
        return None
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])
