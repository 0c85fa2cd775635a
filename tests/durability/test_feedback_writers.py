"""The feedback database with two writers at once, as `partnership serve` and `partnership slack` are: two
real processes open the same fresh file at the same moment and each stores rows as fast as it can."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from assistant.feedback import BUSY_TIMEOUT_S, FeedbackStore, stored_rows

ROWS_PER_WRITER = 400
REPO = Path(__file__).resolve().parents[2]

# Each writer waits for the go file, so both open the new database at the same moment; then each says it is
# open and waits for the other, so both write at the same moment too (setting up a new file is serialised:
# on a fast machine one writer's 400 rows could otherwise be done before the other had opened it).
WRITER = """
import json, sys, time
from pathlib import Path
from assistant.feedback import FeedbackStore
db, source, rows, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
while not go.exists():
    time.sleep(0.001)
store = FeedbackStore(db)
(go.parent / f"open-{source}").touch()
while len(list(go.parent.glob("open-*"))) < 2:
    time.sleep(0.001)
first = time.time()
ids = [store.add(source=source, question=f"{source} question {i}", answer=f"answer {i}", rating="up",
                 user_id=f"{source}-user") for i in range(rows)]
print(json.dumps({"ids": ids, "first": first, "last": time.time()}))
"""


def start_writer(db: Path, source: str, go: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(db), source, str(ROWS_PER_WRITER), str(go)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_http_and_slack_processes_writing_at_once_lose_no_rows(tmp_path):
    db, go = tmp_path / "data" / "feedback.sqlite3", tmp_path / "go"
    writers = {source: start_writer(db, source, go) for source in ("http", "slack")}
    time.sleep(1.0)  # both interpreters started and waiting
    go.touch()
    done = {}
    for source, process in writers.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-3000:]  # no "database is locked"
        done[source] = json.loads(out)

    http, slack = done["http"], done["slack"]
    assert http["first"] < slack["last"] and slack["first"] < http["last"], "the writers did not overlap"
    rows = FeedbackStore(db).all()
    assert len(rows) == 2 * ROWS_PER_WRITER == stored_rows(db)
    assert {r["id"] for r in rows} == set(http["ids"]) | set(slack["ids"])  # every id returned was stored
    for source in ("http", "slack"):
        questions = [r["question"] for r in rows if r["source"] == source]
        assert questions == [f"{source} question {i}" for i in range(ROWS_PER_WRITER)]  # all, in order


def test_the_database_is_in_wal_mode_with_a_busy_timeout(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # kept in the file for every process
    conn = store._connect()
    try:
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == int(BUSY_TIMEOUT_S * 1000)
    finally:
        conn.close()


def test_stored_rows_reads_without_creating_anything(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    assert stored_rows(path) is None and not path.exists()
    store = FeedbackStore(path)
    assert stored_rows(path) == 0
    store.add(source="slack", question="q", answer="a", rating="down")
    assert stored_rows(path) == store.count() == 1


OPENER = """
import sys, time
from pathlib import Path
from assistant.feedback import FeedbackStore
db, go = sys.argv[1], Path(sys.argv[2])
while not go.exists():
    time.sleep(0.0005)
FeedbackStore(db).add(source="http", question="q", answer="a", rating="up")
"""


def test_many_processes_creating_the_same_new_database_at_once_all_succeed(tmp_path):
    """Regression: the journal-mode switch of two processes creating the file together raised
    "database is locked" (SQLite skips the busy handler there), failing CI once in many runs."""
    for attempt in range(10):
        db, go = tmp_path / f"round{attempt}" / "feedback.sqlite3", tmp_path / f"go{attempt}"
        openers = [subprocess.Popen([sys.executable, "-c", OPENER, str(db), str(go)], cwd=REPO,
                                    stderr=subprocess.PIPE, text=True) for _ in range(8)]
        time.sleep(0.7)  # the interpreters started and waiting
        go.touch()
        for process in openers:
            _, err = process.communicate(timeout=120)
            assert process.returncode == 0, err[-3000:]
        assert stored_rows(db) == 8
