from __future__ import annotations

import time

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


def check_index(settings: Settings) -> dict:
    from assistant.store import ChunkStore

    try:
        documents = ChunkStore(settings, embeddings=None).documents_summary()  # counting needs no embeddings
    except Exception as exc:  # unreachable Chroma server, unreadable data dir
        return {"check": "index", "ok": False, "detail": str(exc) or exc.__class__.__name__}
    chunks = sum(d["chunks"] for d in documents)
    if not chunks:
        return {"check": "index", "ok": False, "detail": f"empty ({settings.data_dir}): run `partnership ingest`"}
    return {"check": "index", "ok": True, "detail": f"{len(documents)} documents, {chunks} chunks ({settings.data_dir})"}


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
        """Check the setup: the answer backend (and whether its model answers), the index and the embedding model.

        Exit status 1 when any check fails.
        """
        settings = load_settings()
        checks = [*check_backend(settings), check_index(settings), check_embeddings()]
        if as_json:
            print_json(checks)
        else:
            table = Table("check", "", "detail", show_lines=False)
            for c in checks:
                table.add_row(c["check"], "[green]ok[/]" if c["ok"] else "[red]FAIL[/]", c["detail"])
            console.print(table)
        if not all(c["ok"] for c in checks):
            raise typer.Exit(1)
