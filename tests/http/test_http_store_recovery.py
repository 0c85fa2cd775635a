"""A Chroma server that is down at start-up: 503s naming it, then the service recovers on its own."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from assistant.config import Settings

CHROMA = Path(sys.executable).with_name("chroma")
CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def wait_for(predicate, timeout: float = 90, step: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


def test_service_recovers_when_the_chroma_server_comes_up(embeddings, tmp_path, free_port):
    from assistant.factory import build_assistant
    from assistant.store import ChunkStore
    from ingest.pipeline import ingest_paths
    from integrations.http.app import create_app

    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", chroma_host="127.0.0.1", chroma_port=port)
    app = create_app(settings, builder=lambda s: build_assistant(s, embeddings=embeddings))
    with TestClient(app, raise_server_exceptions=False) as client:
        down = client.get("/readyz")
        assert down.status_code == 503 and f"127.0.0.1:{port}" in down.json()["detail"]
        ask = client.post("/ask", json={"question": "What is the HLP?"})
        assert ask.status_code == 503 and f"127.0.0.1:{port}" in ask.json()["error"]

        server = subprocess.Popen([str(CHROMA), "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1",
                                   "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            # Rebuilt on a later request (at most every 5 s): now the store answers, but it is empty.
            empty = wait_for(lambda: (r := client.get("/readyz")).json()["detail"] and
                             f"127.0.0.1:{port}" not in r.json()["detail"] and r)
            assert empty.status_code == 503 and "empty" in empty.json()["detail"]

            docs = tmp_path / "docs"
            docs.mkdir()
            shutil.copy(CORPUS / "hillingdon-hlp-invitation-to-join.txt", docs)
            report = ingest_paths([docs], settings, ChunkStore(settings, embeddings))
            assert not report.failed
            assert client.get("/readyz").status_code == 200
            answer = client.post("/ask", json={"question": "When is the Hillingdon launch event?"})
            assert answer.status_code == 200 and answer.json()["citations"]
        finally:
            server.terminate()
            server.wait(timeout=30)
