"""`partnership doctor` on a real index: the index marker, the feedback row count and whether the data dir
is writable (the backend and model checks are in tests/generative/test_generative_doctor.py)."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.config import Settings
from assistant.feedback import FeedbackStore
from assistant.store import ChunkStore
from integrations.cli.app import app
from integrations.cli.commands.doctor import check_data_dir

runner = CliRunner()


def doctor_json() -> tuple[int, dict]:
    result = runner.invoke(app, ["doctor", "--json"])
    assert "Traceback" not in result.output
    return result.exit_code, {c["check"]: c for c in json.loads(result.stdout)}


@pytest.fixture
def indexed_copy(indexed_settings, tmp_path, monkeypatch) -> Settings:
    """A private copy of the session's indexed data dir (these tests add rows and chunks to it)."""
    data_dir = tmp_path / "indexed"
    shutil.copytree(indexed_settings.data_dir, data_dir)
    monkeypatch.setenv("PARTNERSHIP_DATA_DIR", str(data_dir))
    return Settings(data_dir=data_dir)


def test_marker_feedback_rows_and_writable_data_dir_are_reported(indexed_copy):
    store = ChunkStore(indexed_copy, embeddings=None)
    documents, chunks = store.marker()
    code, checks = doctor_json()
    assert code == 0, checks
    marker = checks["index marker"]
    assert marker["ok"] and marker["detail"].startswith(f"{documents} documents committed, {chunks} chunks stored, last commit 20")
    assert "built with all-MiniLM-L6-v2" in marker["detail"] and "not committed" not in marker["detail"]
    assert checks["feedback"] == {"check": "feedback", "ok": True,
                                  "detail": f"no feedback yet ({indexed_copy.feedback_db} is created by the first rating)"}
    assert not indexed_copy.feedback_db.exists(), "doctor must not create the feedback database"
    writable = checks["data dir writable"]
    assert writable["ok"] and writable["detail"].startswith(f"yes: {indexed_copy.data_dir.absolute()}, ")
    assert writable["detail"].endswith(" GB free")
    assert not list(indexed_copy.data_dir.glob(".doctor-*")), "the probe file is removed"

    feedback = FeedbackStore(indexed_copy.feedback_db)
    for rating in ("up", "down", "up"):
        feedback.add(source="http", question="q", answer="a", rating=rating)
    assert doctor_json()[1]["feedback"]["detail"] == f"3 rows ({indexed_copy.feedback_db})"


def test_chunks_no_commit_names_show_in_the_marker(indexed_copy):
    store = ChunkStore(indexed_copy, embeddings=None)
    documents, chunks = store.marker()
    # What a killed ingest leaves: vectors written, commit record never rewritten.
    store.collection.add(ids=["orphan-1", "orphan-2"], embeddings=[[0.1] * 384, [0.2] * 384],
                         documents=["left behind", "also left"], metadatas=[{"source": "x.txt"}] * 2)
    code, checks = doctor_json()
    assert code == 0
    detail = checks["index marker"]["detail"]
    assert detail.startswith(f"{documents} documents committed, {chunks + 2} chunks stored")
    assert detail.endswith("; 2 chunks not committed (an ingest is running or was interrupted)")


def test_a_damaged_feedback_file_fails_the_doctor(indexed_copy):
    indexed_copy.feedback_db.write_bytes(b"this is not an SQLite database" * 100)
    code, checks = doctor_json()
    assert code == 1
    assert not checks["feedback"]["ok"] and checks["feedback"]["detail"].startswith(f"cannot read {indexed_copy.feedback_db}: ")


def test_a_data_dir_that_cannot_be_written_fails(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the data dir's parent should be")
    monkeypatch.setenv("PARTNERSHIP_DATA_DIR", str(blocker / "data"))
    code, checks = doctor_json()
    assert code == 1
    check = checks["data dir writable"]
    assert not check["ok"] and check["detail"].startswith(f"no: {blocker}: ")


def _as_nobody(check, settings: Settings) -> dict:
    """Run `check(settings)` in a forked child that has dropped root (root writes to read-only folders,
    and CI runs as root)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to nobody, check, report, leave without running pytest's exit handlers
        try:
            os.close(read)
            os.setgid(65534)
            os.setuid(65534)
            os.write(write, json.dumps(check(settings)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        out = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(out)


def test_a_read_only_data_dir_fails():
    base = Path(tempfile.mkdtemp())
    try:
        base.chmod(0o755)
        data_dir = base / "data"
        data_dir.mkdir()
        data_dir.chmod(0o555)
        settings = Settings(data_dir=data_dir)
        check = _as_nobody(check_data_dir, settings) if os.geteuid() == 0 else check_data_dir(settings)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert not check["ok"] and check["detail"] == f"no: {data_dir}: Permission denied"


def test_a_data_dir_not_made_yet_is_writable_when_its_parent_is(tmp_path):
    data_dir = tmp_path / "new" / "data"
    check = check_data_dir(Settings(data_dir=data_dir))
    assert check["ok"] and check["detail"].startswith(f"yes: {data_dir} (not created yet; {tmp_path} is writable), ")
    assert not (tmp_path / "new").exists()
