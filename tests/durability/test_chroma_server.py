"""The scale-out path: everything against a real `chroma run` server gives the same chunks and answers
as the embedded store; a server that is down is a clear error naming host and port (CLI exit 2, /readyz 503)."""
from __future__ import annotations

import json
import subprocess

import httpx

from assistant.config import Settings
from assistant.factory import build_assistant
from assistant.store import ChunkStore
from ingest.pipeline import ingest_paths
from tests.durability.conftest import PARTNERSHIP, cli_env, run_cli, snapshot, write_version
from tests.support.paths import REPO
from tests.support.servers import free_port, serve_in_thread

QUESTIONS = ["Why is ELP only for one year?", "Are nurseries in or out?", "When do ELP invoices go out?",
             "When must schools sign up to the Hillingdon Learning Partnership?"]


def answers(assistant) -> list[dict]:
    return [assistant.ask(q).model_dump() for q in QUESTIONS]


def test_ingest_ask_and_reingest_on_a_chroma_server_match_the_embedded_store(tmp_path, embeddings, chroma_server):
    folder = write_version(tmp_path / "docs", 1)
    embedded = Settings(data_dir=tmp_path / "embedded")
    served = chroma_server.settings(tmp_path / "served")
    for settings in (embedded, served):
        report = ingest_paths([folder], settings, ChunkStore(settings, embeddings))
        assert report.failed == [] and report.added == 3
    assert snapshot(served, embeddings) == snapshot(embedded, embeddings)
    assert not (served.data_dir / "chroma").exists(), "server mode must not write an embedded store"
    local, remote = build_assistant(embedded, embeddings=embeddings), build_assistant(served, embeddings=embeddings)
    assert answers(remote) == answers(local)
    assert remote.documents() == local.documents()

    # Re-ingest an edited folder: in-process for the embedded store, with the real CLI configured
    # only through PARTNERSHIP_CHROMA_HOST/PORT for the server.
    write_version(folder, 2)
    ingest_paths([folder], embedded, ChunkStore(embedded, embeddings))
    env = cli_env(served.data_dir, PARTNERSHIP_CHROMA_HOST="127.0.0.1", PARTNERSHIP_CHROMA_PORT=str(chroma_server.port))
    result = run_cli(["ingest", str(folder), "--json"], env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["added"], report["updated"], report["unchanged"], report["removed"]) == (1, 1, 1, 1)
    assert snapshot(served, embeddings) == snapshot(embedded, embeddings)
    # Fresh Assistants, as after a restart (a long-lived one's re-ingest check is tests/index/test_pipeline.py).
    local, remote = build_assistant(embedded, embeddings=embeddings), build_assistant(served, embeddings=embeddings)
    assert answers(remote) == answers(local)
    new_qa = remote.retrieve("When do ELP invoices go out?")
    assert any("Invoices for ELP subscriptions" in hit.page_content for hit in new_qa)

    asked = run_cli(["ask", "--json", QUESTIONS[0]], env)
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout) == local.ask(QUESTIONS[0]).model_dump()


def test_a_chroma_server_that_is_down_is_a_clear_error_everywhere(tmp_path, embeddings):
    port = free_port()  # nothing listens here
    where = f"127.0.0.1:{port}"
    env = cli_env(tmp_path / "data", PARTNERSHIP_CHROMA_HOST="127.0.0.1", PARTNERSHIP_CHROMA_PORT=str(port))
    commands = [["ask", "Why is ELP only for one year?"], ["ingest", str(REPO / "corpus")], ["docs"]]
    running = [subprocess.Popen([str(PARTNERSHIP), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=REPO) for args in commands]
    for args, process in zip(commands, running):
        out, err = process.communicate(timeout=300)
        assert process.returncode == 2, (args, err)
        message = err.replace("\n", "")
        assert f"Cannot reach the Chroma server at {where}" in message, (args, err)
        assert "Traceback" not in err and out == "", args

    from integrations.http.app import create_app

    settings = Settings(data_dir=tmp_path / "http", chroma_host="127.0.0.1", chroma_port=port)
    app = create_app(settings, builder=lambda s: build_assistant(s, embeddings=embeddings))
    url, stop = serve_in_thread(app)
    try:
        ready = httpx.get(f"{url}/readyz", timeout=30)
        assert ready.status_code == 503
        assert where in ready.json()["detail"]
        assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200
        asked = httpx.post(f"{url}/ask", json={"question": "Why is ELP only for one year?"}, timeout=30)
        assert asked.status_code == 503 and where in asked.text
    finally:
        stop()


def test_a_chroma_server_that_stops_while_serving_makes_readyz_503(tmp_path, embeddings, chroma_server):
    folder = write_version(tmp_path / "docs", 1)
    settings = chroma_server.settings(tmp_path / "data")
    ingest_paths([folder], settings, ChunkStore(settings, embeddings))
    from integrations.http.app import create_app

    app = create_app(settings, builder=lambda s: build_assistant(s, embeddings=embeddings))
    url, stop = serve_in_thread(app)
    try:
        assert httpx.get(f"{url}/readyz", timeout=30).status_code == 200
        chroma_server.stop()
        ready = httpx.get(f"{url}/readyz", timeout=30)
        assert ready.status_code == 503
        asked = httpx.post(f"{url}/ask", json={"question": "Why is ELP only for one year?"}, timeout=60)
        assert asked.status_code == 503, asked.text
        assert f"127.0.0.1:{chroma_server.port}" in asked.text
    finally:
        stop()
