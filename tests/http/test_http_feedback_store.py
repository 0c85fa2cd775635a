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
    assert set(rows[0]) == {"id", "created_at", "source", "user_id", "channel", "question", "answer", "rating", "comment"}
    assert rows[0]["source"] == "http" and rows[0]["rating"] == "up" and rows[0]["comment"] is None
    assert rows[1] | {"created_at": None} == {
        "id": 2, "created_at": None, "source": "slack", "user_id": "U123", "channel": "C456",
        "question": "q2", "answer": "a2", "rating": "down", "comment": "too vague",
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
