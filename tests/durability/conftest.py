"""Fixtures for durability tests: a small copy of the corpus in two versions, clean reference builds,
and real `partnership` subprocesses (with kill/pause points from hooked_cli.py)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from assistant.config import Settings
from assistant.store import ChunkStore
from ingest.pipeline import ingest_paths
from tests.support.paths import CORPUS, REPO
from tests.support.servers import free_port

HOOKED_CLI = Path(__file__).with_name("hooked_cli.py")
PARTNERSHIP = Path(sys.executable).with_name("partnership")
CHROMA = Path(sys.executable).with_name("chroma")
RUN_TIMEOUT = 300

EDITED = "ealing-elp-qa-briefings-2017-11.txt"
KEPT = "hillingdon-hlp-invitation-to-join.txt"
REMOVED = "governors-termly-notes.md"
ADDED = "clerks-briefing.md"
NEW_QA = "When do ELP invoices go out?\tInvoices for ELP subscriptions are sent in April each year, after sign-up closes.\n"

NOTES = """# Governors termly notes

The partnership board meets every term in the Civic Centre. Governors receive the minutes within two weeks.

## Training

Governor training sessions run on Tuesday evenings; booking opens a month ahead.
"""
CLERKS = """# Clerks briefing

Clerks send the agenda to governors seven days before each meeting. Papers go out with the agenda.
"""


def write_version(folder: Path, version: int) -> Path:
    """The small corpus as it is before (1) and after (2) an edit: in version 2 the Q&A sheet gains a
    question near the top (so every later chunk moves), one file is removed and one is added."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(CORPUS / "metadata.yaml", folder / "metadata.yaml")
    shutil.copy(CORPUS / KEPT, folder / KEPT)
    original = (CORPUS / EDITED).read_text(encoding="utf-8")
    if version == 1:
        (folder / EDITED).write_text(original, encoding="utf-8")
        (folder / REMOVED).write_text(NOTES, encoding="utf-8")
        (folder / ADDED).unlink(missing_ok=True)
    else:
        (folder / EDITED).write_text(original.replace("Question\tResponses\n", "Question\tResponses\n" + NEW_QA, 1), encoding="utf-8")
        (folder / REMOVED).unlink(missing_ok=True)
        (folder / ADDED).write_text(CLERKS, encoding="utf-8")
    return folder


@dataclass
class Snapshot:
    """What a store holds: committed chunks (what queries see) and every raw id by source."""

    visible: dict[str, tuple[str, dict]]  # id -> (text, metadata)
    raw: dict[str, set[str]]
    parts_of: set[str] = frozenset()  # chunk ids that have parts stored

    def visible_by_source(self) -> dict[str, dict[str, tuple[str, dict]]]:
        out: dict[str, dict] = {}
        for cid, (text, meta) in self.visible.items():
            out.setdefault(meta["source"], {})[cid] = (text, meta)
        return out


def snapshot(settings: Settings, embeddings) -> Snapshot:
    store = ChunkStore(settings, embeddings)
    visible = {cid: (doc.page_content, doc.metadata) for cid, doc in store.all_chunks()}
    parts = store.parts.get(include=["metadatas"])["metadatas"] or []
    return Snapshot(visible, store.ids_by_source(), {m["chunk"] for m in parts})


@pytest.fixture(scope="session")
def references(tmp_path_factory, embeddings) -> dict[int, Snapshot]:
    """Clean in-process builds of version 1 and 2 of the small corpus (fresh data dir each)."""
    refs = {}
    for version in (1, 2):
        base = tmp_path_factory.mktemp(f"reference-v{version}")
        folder = write_version(base / "docs", version)
        settings = Settings(data_dir=base / "data")
        report = ingest_paths([folder], settings, ChunkStore(settings, embeddings))
        assert not report.failed, report.failed
        refs[version] = snapshot(settings, embeddings)
    return refs


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERSHIP_") or k == "PARTNERSHIP_ENCODER_DIR" and k not in ("CRASH_AT", "PAUSE_AT")}
    env.update({"PARTNERSHIP_DATA_DIR": str(data_dir), "PARTNERSHIP_CORPUS_DIR": str(CORPUS), "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], hooked: bool = False, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    command = [sys.executable, str(HOOKED_CLI), *args] if hooked else [str(PARTNERSHIP), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO)


def start_cli(args: list[str], env: dict[str, str], hooked: bool = True) -> subprocess.Popen:
    command = [sys.executable, str(HOOKED_CLI), *args] if hooked else [str(PARTNERSHIP), *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)


def wait_for(path: Path, process: subprocess.Popen, timeout: float = RUN_TIMEOUT) -> None:
    """Wait until `path` exists; fail early (with the process's stderr) if the process ends first."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"process ended (rc {process.returncode}) before {path.name}: {process.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"timed out waiting for {path.name}")
        time.sleep(0.1)


@pytest.fixture
def processes():
    """Popen objects registered here are killed (by pid) at teardown if still running."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


class ChromaServer:
    """A real `chroma run` server process on 127.0.0.1 and a free port, persisting under `path`."""

    def __init__(self, path: Path, log_path: Path):
        self.path, self.log_path = path, log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> "ChromaServer":
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"chroma run did not start: {self.log_path.read_text()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        if getattr(self, "_log", None):
            self._log.close()

    def settings(self, data_dir: Path) -> Settings:
        return Settings(data_dir=data_dir, chroma_host="127.0.0.1", chroma_port=self.port)


@pytest.fixture
def chroma_server(tmp_path):
    server = ChromaServer(tmp_path / "chroma-server", tmp_path / "chroma-server.log").start()
    yield server
    server.stop()
