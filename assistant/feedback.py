"""Durable store of thumbs-up/down feedback given over HTTP and Slack (SQLite under the data dir)."""
from __future__ import annotations

import fcntl
import json
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError

SOURCES = ("http", "slack")
RATINGS = ("up", "down")
# What is needed to reproduce the answer, added after the first release: JSON text (history, filters,
# citations, index_marker) or plain text; NULL in rows stored before them. `expected_source` is the document
# a person said holds the right answer.
JSON_COLUMNS = ("history", "filters", "citations", "index_marker")
ADDED_COLUMNS = ("history", "filters", "citations", "backend", "index_marker", "expected_source")
COLUMNS = ("id", "created_at", "source", "user_id", "channel", "question", "answer", "rating", "comment",
           *ADDED_COLUMNS)
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
        # Two processes creating the file at once can get "database is locked" from the journal-mode
        # switch (SQLite does not run the busy handler for it), so setting up the file is serialised
        # by an OS lock on a sidecar file; writes after that rely on WAL and the busy timeout alone.
        with open(self.path.with_name(self.path.name + ".setup-lock"), "a") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            with closing(self._connect()) as conn, conn:
                # WAL: readers (an export, `doctor`) never block the writer, and writers queue on the busy
                # timeout instead of failing. The mode is stored in the file, so every later connection has it.
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_SCHEMA)
            self._migrate()

    def _migrate(self) -> None:
        """Add the columns a database made by an older version lacks, in place (old rows get NULL).
        One immediate transaction, so two processes starting at once do not both add a column."""
        with closing(self._connect()) as conn:
            conn.isolation_level = None
            conn.execute("BEGIN IMMEDIATE")
            try:
                present = {row["name"] for row in conn.execute("PRAGMA table_info(feedback)")}
                for column in ADDED_COLUMNS:
                    if column not in present:
                        conn.execute(f"ALTER TABLE feedback ADD COLUMN {column} TEXT")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

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
        history: list[dict] | None = None,
        filters: dict | None = None,
        citations: list[dict] | None = None,
        backend: str | None = None,
        index_marker: dict | None = None,
        expected_source: str | None = None,
    ) -> int:
        """Store one piece of feedback and return its id.

        `history`, `filters`, `citations`, `backend` and `index_marker` are what reproduces the answer
        (stored as JSON where structured); `expected_source` is where the right answer is, if someone said.

        Raises:
            FeedbackError: `rating` is not "up"/"down" or `source` is not "http"/"slack".
        """
        if rating not in RATINGS:
            raise FeedbackError(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}.")
        if source not in SOURCES:
            raise FeedbackError(f"source must be one of {', '.join(SOURCES)}, not {source!r}.")
        created_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with closing(self._connect()) as conn, conn:
            values = (created_at, source, user_id, channel, question, answer, rating, comment,
                      _dump(history), _dump(filters), _dump(citations), backend, _dump(index_marker), expected_source)
            cursor = conn.execute(
                f"INSERT INTO feedback ({', '.join(COLUMNS[1:])}) VALUES ({', '.join('?' * len(values))})", values)
            return int(cursor.lastrowid)

    def count(self) -> int:
        """How many feedback rows are stored."""
        with closing(self._connect()) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def add_detail(self, row_id: int, *, comment: str | None, expected_source: str | None = None) -> bool:
        """Attach what a person said was wrong (and where the right answer is) to stored row `row_id`.
        Returns False when there is no such row."""
        with closing(self._connect()) as conn, conn:
            cursor = conn.execute("UPDATE feedback SET comment = ?, expected_source = ? WHERE id = ?",
                                  (comment, expected_source, row_id))
            return cursor.rowcount == 1

    def all(self) -> list[dict[str, Any]]:
        """Every stored feedback row, oldest first (JSON columns decoded; NULL in rows older than them)."""
        return self.select()

    def select(self, *, rating: str | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
        """Stored rows, oldest first, optionally only one `rating` and those created at or after `since`.

        Raises:
            FeedbackError: `rating` is not "up"/"down".
        """
        where, args = [], []
        if rating is not None:
            if rating not in RATINGS:
                raise FeedbackError(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}.")
            where.append("rating = ?")
            args.append(rating)
        if since is not None:
            since = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
            where.append("created_at >= ?")  # every created_at is UTC ISO text, so text order is time order
            args.append(since.astimezone(timezone.utc).isoformat(timespec="seconds"))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with closing(self._connect()) as conn:
            rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback{clause} ORDER BY id", args).fetchall()
        return [_decoded(row) for row in rows]


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _decoded(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    for column in JSON_COLUMNS:
        if out.get(column) is not None:
            out[column] = json.loads(out[column])
    return out


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
