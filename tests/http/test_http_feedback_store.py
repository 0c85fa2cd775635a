"""The SQLite feedback store: durable, parameterised, safe to share between threads."""
from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistant.feedback import FeedbackError, FeedbackStore

HOSTILE = [
    "'; DROP TABLE feedback; --",
    "\" OR 1=1 --",
    "Robert'); DELETE FROM feedback WHERE ('1'='1",
    "x'); INSERT INTO feedback (question) VALUES ('pwned",
    "%_\\ \x00 NUL and 'quotes' and \"doubles\" ; -- comment /* */",
]


def test_add_returns_increasing_ids_and_all_returns_every_field(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    first = store.add(source="http", question="Who chairs the board?", answer="The ELP board [1].", rating="up")
    second = store.add(source="slack", question="q2", answer="a2", rating="down", comment="too vague",
                       user_id="U123", channel="C456")
    assert (first, second) == (1, 2)
    rows = store.all()
    assert [r["id"] for r in rows] == [1, 2]
    assert set(rows[0]) == {"id", "created_at", "source", "user_id", "channel", "question", "answer", "rating", "comment",
                            "history", "filters", "citations", "backend", "index_marker", "expected_source"}
    assert rows[0]["source"] == "http" and rows[0]["rating"] == "up" and rows[0]["comment"] is None
    assert rows[1] | {"created_at": None} == {
        "id": 2, "created_at": None, "source": "slack", "user_id": "U123", "channel": "C456",
        "question": "q2", "answer": "a2", "rating": "down", "comment": "too vague",
        "history": None, "filters": None, "citations": None, "backend": None, "index_marker": None,
        "expected_source": None,
    }
    assert rows[0]["created_at"].endswith("+00:00")


def test_quotes_and_sql_in_every_field_are_stored_verbatim(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    for text in HOSTILE:
        store.add(source="slack", question=text, answer=text, rating="down", comment=text, user_id=text, channel=text)
    rows = store.all()
    assert len(rows) == len(HOSTILE)
    for row, text in zip(rows, HOSTILE):
        assert row["question"] == row["answer"] == row["comment"] == row["user_id"] == row["channel"] == text
    # The table survived and nothing else was created.
    with sqlite3.connect(tmp_path / "fb.sqlite3") as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "feedback" in tables and len(FeedbackStore(tmp_path / "fb.sqlite3").all()) == len(HOSTILE)


def test_feedback_survives_reopening(tmp_path):
    path = tmp_path / "nested" / "dir" / "fb.sqlite3"
    FeedbackStore(path).add(source="http", question="q", answer="a", rating="up")
    assert [r["question"] for r in FeedbackStore(path).all()] == ["q"]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("rating", "meh", "rating must be one of up, down"),
    ("source", "email", "source must be one of http, slack"),
])
def test_invalid_rating_or_source_is_a_clear_error(tmp_path, field, value, message):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    args = {"source": "http", "question": "q", "answer": "a", "rating": "up", field: value}
    with pytest.raises(FeedbackError, match=message):
        store.add(**args)
    assert store.all() == []


def test_concurrent_writers_lose_nothing(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda i: store.add(source="http", question=f"q{i}", answer="a", rating="up"), range(200)))
    assert sorted(ids) == list(range(1, 201))
    assert {r["question"] for r in store.all()} == {f"q{i}" for i in range(200)}


OLD_SCHEMA = """
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('http', 'slack')), user_id TEXT, channel TEXT,
    question TEXT NOT NULL, answer TEXT NOT NULL, rating TEXT NOT NULL CHECK (rating IN ('up', 'down')), comment TEXT
)
"""


def test_an_old_schema_database_is_migrated_in_place_and_its_rows_keep_working(tmp_path):
    path = tmp_path / "fb.sqlite3"
    with sqlite3.connect(path) as conn:  # a database written by the previous release
        conn.execute(OLD_SCHEMA)
        conn.execute("INSERT INTO feedback (created_at, source, question, answer, rating, comment)"
                     " VALUES ('2026-01-05T10:00:00+00:00', 'slack', 'old q', 'old a', 'down', 'old comment')")
    store = FeedbackStore(path)
    with sqlite3.connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(feedback)")]
    assert columns[-6:] == ["history", "filters", "citations", "backend", "index_marker", "expected_source"]
    new_id = store.add(source="http", question="new q", answer="new a [1]", rating="down",
                       history=[{"role": "user", "content": "earlier"}], filters={"partnership": "Ealing"},
                       citations=[{"n": 1, "source": "s.txt"}], backend="extractive",
                       index_marker={"documents": 5, "chunks": 231}, expected_source="s.txt")
    old, new = store.all()
    assert (old["question"], old["comment"], old["history"], old["backend"]) == ("old q", "old comment", None, None)
    assert new["id"] == new_id and new["history"] == [{"role": "user", "content": "earlier"}]
    assert (new["filters"], new["citations"], new["index_marker"]) == (
        {"partnership": "Ealing"}, [{"n": 1, "source": "s.txt"}], {"documents": 5, "chunks": 231})
    FeedbackStore(path)  # opening a migrated database again changes nothing
    assert len(store.all()) == 2


def test_select_filters_by_rating_and_since_and_add_detail_attaches_a_comment(tmp_path):
    from datetime import date, datetime

    path = tmp_path / "fb.sqlite3"
    store = FeedbackStore(path)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO feedback (created_at, source, question, answer, rating)"
                     " VALUES ('2026-01-05T10:00:00+00:00', 'slack', 'january', 'a', 'down')")
    store.add(source="http", question="today up", answer="a", rating="up")
    today_down = store.add(source="slack", question="today down", answer="a", rating="down")
    assert [r["question"] for r in store.select(rating="down")] == ["january", "today down"]
    since = datetime.combine(date(2026, 1, 6), datetime.min.time())
    assert [r["question"] for r in store.select(rating="down", since=since)] == ["today down"]
    assert store.add_detail(today_down, comment="wrong year", expected_source="x.txt") is True
    assert store.add_detail(999, comment="nobody") is False
    row = store.select(rating="down")[-1]
    assert (row["comment"], row["expected_source"]) == ("wrong year", "x.txt")
    with pytest.raises(FeedbackError, match="rating must be one of up, down"):
        store.select(rating="meh")
