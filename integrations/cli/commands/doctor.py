from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import typer
from rich.table import Table

from assistant.config import Settings
from integrations.cli.common import console, load_settings, print_json


def check_backend(settings: Settings) -> list[dict]:
    """Which answer backend `ask` uses and, for a chat model, whether it answers a one-word ping."""
    if not settings.llm_base_url:
        return [{"check": "answer backend", "ok": True, "detail": "extractive (PARTNERSHIP_LLM_BASE_URL is not set)"}]
    from assistant.generative import build_chat_model, describe, ping, uses_native_tools
    from assistant.generative.backend import failure_reason

    try:
        model = build_chat_model(settings)
        tools = "on" if uses_native_tools(settings) else "off (the calculator router answers calculations)"
    except Exception as exc:  # bad URL scheme, missing model name or optional package
        return [{"check": "answer backend", "ok": False, "detail": str(exc)}]
    checks = [{"check": "answer backend", "ok": True, "detail": f"generative: {describe(settings)}; calculator tool calls {tools}"}]
    started = time.monotonic()
    try:
        reply = ping(model)
        checks.append({"check": "model answers", "ok": True, "detail": f"replied {reply[:40]!r} in {time.monotonic() - started:.1f} s"})
    except Exception as exc:  # every endpoint failure is a finding, not a crash
        checks.append({
            "check": "model answers", "ok": False,
            "detail": f"no: {failure_reason(exc)} after {time.monotonic() - started:.1f} s; answers fall back to extractive",
        })
    return checks


def check_index(settings: Settings) -> list[dict]:
    """The index (documents and chunks) and its marker: documents committed and the newest commit (what a
    running `serve` or `slack` compares on every question to notice a re-ingest), chunks stored, the model."""
    from assistant.factory import build_store

    try:
        store = build_store(settings, embed=False)  # counting needs no embeddings
        documents = store.documents_summary()
        committed, stored = store.marker()
        newest, model = store.newest_commit(), store.recorded_model()
    except Exception as exc:  # unreachable Chroma server, unreadable data dir
        detail = str(exc) or exc.__class__.__name__
        return [{"check": "index", "ok": False, "detail": detail}, {"check": "index marker", "ok": False, "detail": detail}]
    chunks = sum(d["chunks"] for d in documents)
    if not chunks:
        index = {"check": "index", "ok": False, "detail": f"empty ({settings.data_dir}): run `partnership ingest`"}
    else:
        index = {"check": "index", "ok": True, "detail": f"{len(documents)} documents, {chunks} chunks ({settings.data_dir})"}
    when = datetime.fromtimestamp(newest / 1e9, timezone.utc).isoformat(timespec="seconds") if newest else "never"
    detail = f"{committed} documents committed, {stored} chunks stored, last commit {when}; built with {model}"
    if stored > chunks:
        # Chunks no commit record names: an ingest is running, or one was killed (the next one removes them).
        detail += f"; {stored - chunks} chunks not committed (an ingest is running or was interrupted)"
    return [index, {"check": "index marker", "ok": True, "detail": detail}]


def check_feedback(settings: Settings) -> dict:
    """How many feedback rows are stored, read without creating the database."""
    from assistant.feedback import stored_rows

    path = settings.feedback_db
    try:
        rows = stored_rows(path)
    except sqlite3.Error as exc:  # a damaged or foreign file where the feedback database should be
        return {"check": "feedback", "ok": False, "detail": f"cannot read {path}: {exc}"}
    if rows is None:
        return {"check": "feedback", "ok": True, "detail": f"no feedback yet ({path} is created by the first rating)"}
    return {"check": "feedback", "ok": True, "detail": f"{rows} rows ({path})"}


def check_data_dir(settings: Settings) -> dict:
    """Whether the data dir (index lock, manifest, feedback) can be written: a real file is created and removed."""
    data_dir = Path(settings.data_dir).absolute()
    target = data_dir
    while not target.exists() and target != target.parent:
        target = target.parent  # the data dir is made on first use: its nearest existing folder must be writable
    try:
        with tempfile.NamedTemporaryFile(dir=target, prefix=".doctor-"):
            pass
    except OSError as exc:
        return {"check": "data dir writable", "ok": False, "detail": f"no: {target}: {exc.strerror or exc}"}
    free_gb = shutil.disk_usage(target).free / 1024**3
    where = str(data_dir) if target == data_dir else f"{data_dir} (not created yet; {target} is writable)"
    return {"check": "data dir writable", "ok": True, "detail": f"yes: {where}, {free_gb:.1f} GB free"}


def check_embeddings() -> dict:
    from assistant.embeddings import MODEL_NAME, model_path, verify_weights

    try:
        verify_weights(model_path())
    except Exception as exc:  # checksum mismatch, package missing, file unreadable
        return {"check": "embedding model", "ok": False, "detail": str(exc)}
    return {"check": "embedding model", "ok": True, "detail": f"{MODEL_NAME}: checksum ok"}


def register(app: typer.Typer) -> None:
    @app.command()
    def doctor(as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON.")) -> None:
        """Check the setup: the answer backend (and whether its model answers), the index and its marker, the
        embedding model, the feedback rows and whether the data dir is writable.

        Exit status 1 when any check fails.
        """
        settings = load_settings()
        checks = [*check_backend(settings), *check_index(settings), check_embeddings(), check_feedback(settings),
                  check_data_dir(settings)]
        if as_json:
            print_json(checks)
        else:
            table = Table("check", "", "detail", show_lines=False)
            for c in checks:
                table.add_row(c["check"], "[green]ok[/]" if c["ok"] else "[red]FAIL[/]", c["detail"])
            console.print(table)
        if not all(c["ok"] for c in checks):
            raise typer.Exit(1)
