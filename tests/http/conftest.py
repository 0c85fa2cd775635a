"""HTTP fixtures: in-process clients over the real session Assistant, and a real `partnership serve` process."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings
from tests.support.paths import CORPUS, REPO
from tests.support.servers import free_port as _free_port

PARTNERSHIP = Path(sys.executable).with_name("partnership")


@pytest.fixture
def make_client(assistant, tmp_path) -> Callable[..., TestClient]:
    """make_client(**settings) -> a TestClient over the real Assistant; settings override the defaults.

    The app gets its own data dir (feedback lands there); the Assistant keeps the session index.
    """

    from integrations.http.app import create_app

    def make(assistant_=assistant, extra_routers=(), **overrides) -> TestClient:
        values = {"data_dir": tmp_path / "http-data", "rate_limit_per_minute": 1000, **overrides}
        app = create_app(Settings(**values), assistant=assistant_, extra_routers=extra_routers, builder=None)
        return TestClient(app, raise_server_exceptions=False)

    return make


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


@pytest.fixture
def free_port() -> Callable[[], int]:
    """free_port() -> a TCP port on 127.0.0.1 that nothing listens on right now."""
    return _free_port


class LiveServer:
    """A `partnership serve` subprocess on 127.0.0.1 and an ephemeral port."""

    def __init__(self, data_dir: Path, log_path: Path, **env: str):
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERSHIP_") or k == "PARTNERSHIP_ENCODER_DIR"}
        self.env = {
            **inherited,
            "PARTNERSHIP_DATA_DIR": str(data_dir),
            "PARTNERSHIP_CORPUS_DIR": str(CORPUS),
            "PARTNERSHIP_RATE_LIMIT_PER_MINUTE": "100000",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> LiveServer:
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(PARTNERSHIP), "serve", "--port", str(self.port)],
            cwd=REPO, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        self.stop()
        raise AssertionError(f"server not ready within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int | None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode if self.process else None


def copy_index(indexed_settings: Settings, target: Path) -> Path:
    """A private copy of the session index, so a server process never shares files with the test process."""
    shutil.copytree(indexed_settings.data_dir, target, ignore=shutil.ignore_patterns("*.lock", "feedback.sqlite3*"))
    return target


@pytest.fixture
def private_index(indexed_settings, tmp_path) -> Path:
    """A data dir holding a private copy of the session index (for an extra server process)."""
    return copy_index(indexed_settings, tmp_path / "data")


@pytest.fixture(scope="session")
def index_copy(indexed_settings, tmp_path_factory) -> Callable[[str], Path]:
    """index_copy(name) -> a new data dir holding a private copy of the session index (for module fixtures)."""
    return lambda name: copy_index(indexed_settings, tmp_path_factory.mktemp(name) / "data")


@pytest.fixture
def browser(tmp_path):
    """A headless chromium at phone width (390 px) with a fresh profile."""
    from browser_support import start_chromium

    driver = start_chromium(tmp_path / "profile")
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def start_server(tmp_path_factory):
    """start_server(data_dir, **env) -> a started LiveServer, stopped at the end of the session."""
    started: list[LiveServer] = []

    def start(data_dir: Path, **env: str) -> LiveServer:
        base = tmp_path_factory.mktemp("server")
        server = LiveServer(data_dir, base / "server.log", **env).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def live_server(indexed_settings, tmp_path_factory, start_server) -> LiveServer:
    """One `partnership serve` over a copy of the session index, shared by the server and browser tests."""
    return start_server(copy_index(indexed_settings, tmp_path_factory.mktemp("live") / "data"))
