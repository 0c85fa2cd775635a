"""The HTTP limits that are Settings fields: the body size and how soon a failed start is retried."""
from __future__ import annotations

import time

from fastapi.testclient import TestClient

from assistant.config import Settings
from assistant.errors import AssistantError
from integrations.http.app import create_app


def test_body_limit_is_read_from_PARTNERSHIP_MAX_BODY_KB(monkeypatch, make_client):
    assert Settings().max_body_kb == 64 and Settings().max_body_bytes == 64 * 1024
    monkeypatch.setenv("PARTNERSHIP_MAX_BODY_KB", "8")
    assert Settings().max_body_bytes == 8 * 1024
    client = make_client()
    response = client.post("/ask", json={"question": "q", "history": [{"role": "user", "content": "x" * 9000}]})
    assert response.status_code == 413 and "larger than 8 KB" in response.json()["error"]


def _failing_app(tmp_path, **overrides):
    calls = []

    def builder(settings):
        calls.append(time.monotonic())
        raise AssistantError("the store is down")

    return create_app(Settings(data_dir=tmp_path / "d", **overrides), builder=builder), calls


def test_store_retry_interval_is_read_from_PARTNERSHIP_STORE_RETRY_SECONDS(monkeypatch, tmp_path):
    assert Settings().store_retry_seconds == 5.0
    monkeypatch.setenv("PARTNERSHIP_STORE_RETRY_SECONDS", "3600")
    app, calls = _failing_app(tmp_path)
    with TestClient(app, raise_server_exceptions=False) as client:  # the lifespan builds once
        for _ in range(3):
            assert client.post("/ask", json={"question": "q"}).status_code == 503
    assert len(calls) == 1  # within the interval no request tries again


def test_a_short_store_retry_interval_rebuilds_on_the_next_request(tmp_path):
    app, calls = _failing_app(tmp_path, store_retry_seconds=0.05)
    with TestClient(app, raise_server_exceptions=False) as client:
        time.sleep(0.1)
        assert client.post("/ask", json={"question": "q"}).status_code == 503
    assert len(calls) == 2
