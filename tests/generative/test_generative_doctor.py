"""`partnership doctor`: which backend is active, whether its model answers, index and embedding checks."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from integrations.cli.app import app

runner = CliRunner()


def doctor_json(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["doctor", "--json", *args])
    assert "Traceback" not in result.output
    return result.exit_code, {c["check"]: c for c in json.loads(result.stdout)}


def test_extractive_setup_with_an_index_is_healthy(indexed_settings, monkeypatch):
    monkeypatch.setenv("PARTNERSHIP_DATA_DIR", str(indexed_settings.data_dir))
    code, checks = doctor_json()
    assert code == 0
    assert checks["answer backend"]["detail"].startswith("extractive")
    assert "model answers" not in checks
    documents = len({p.name for p in indexed_settings.corpus_dir.glob("*.txt")})
    assert checks["index"]["ok"] and checks["index"]["detail"].startswith(f"{documents} documents, ")
    assert checks["embedding model"] == {"check": "embedding model", "ok": True, "detail": "all-MiniLM-L6-v2: checksum ok"}


def test_generative_backend_is_named_and_pinged(indexed_settings, chat_server, monkeypatch):
    monkeypatch.setenv("PARTNERSHIP_DATA_DIR", str(indexed_settings.data_dir))
    monkeypatch.setenv("PARTNERSHIP_LLM_BASE_URL", chat_server.url)
    monkeypatch.setenv("PARTNERSHIP_LLM_MODEL", "scripted")
    chat_server.say("OK")
    code, checks = doctor_json()
    assert code == 0, checks
    assert checks["answer backend"]["detail"] == f"generative: model scripted at {chat_server.url}; calculator tool calls on"
    assert checks["model answers"]["ok"] and checks["model answers"]["detail"].startswith("replied 'OK' in ")
    (body,) = chat_server.requests
    assert body["messages"] == [{"role": "user", "content": "Reply with the single word OK."}]


def test_failing_model_and_empty_index_fail_the_doctor(chat_server, monkeypatch):
    monkeypatch.setenv("PARTNERSHIP_LLM_BASE_URL", chat_server.url)
    monkeypatch.setenv("PARTNERSHIP_LLM_MODEL", "scripted")
    monkeypatch.setenv("PARTNERSHIP_LLM_TOOLS", "false")
    chat_server.fail(500)
    code, checks = doctor_json()
    assert code == 1
    assert checks["answer backend"]["detail"].endswith("calculator tool calls off (the calculator router answers calculations)")
    assert not checks["model answers"]["ok"] and "HTTP 500" in checks["model answers"]["detail"]
    assert not checks["index"]["ok"] and "partnership ingest" in checks["index"]["detail"]

    chat_server.fail(500)
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1 and "FAIL" in result.output and "Traceback" not in result.output


def test_unusable_llm_settings_are_reported_not_raised(monkeypatch):
    monkeypatch.setenv("PARTNERSHIP_LLM_BASE_URL", "ftp://models.example/v1")
    code, checks = doctor_json()
    assert code == 1
    assert not checks["answer backend"]["ok"] and "unknown scheme 'ftp'" in checks["answer backend"]["detail"]
    monkeypatch.setenv("PARTNERSHIP_LLM_BASE_URL", "http://127.0.0.1:1/v1")
    code, checks = doctor_json()
    assert "PARTNERSHIP_LLM_MODEL is not set" in checks["answer backend"]["detail"]
