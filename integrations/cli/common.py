"""Shared bits of the CLI: settings, building the assistant, printing answers, turning errors into exit codes."""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import typer
from rich.console import Console

from assistant.config import Settings
from assistant.errors import AssistantError, IndexEmptyError, QuestionError, StoreUnavailableError
from assistant.models import Answer

console = Console()
err_console = Console(stderr=True)

EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    err_console.print(f"[bold red]Error:[/] {message}", highlight=False)
    return typer.Exit(code)


@contextmanager
def user_errors():
    """Domain errors become one line and exit status 2, never a traceback."""
    try:
        yield
    except IndexEmptyError as exc:
        raise fail(str(exc)) from None
    except (QuestionError, StoreUnavailableError, AssistantError) as exc:
        raise fail(str(exc)) from None


def load_settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic ValidationError on a bad PARTNERSHIP_* value
        raise fail(f"invalid configuration: {exc}") from None


def print_json(payload) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


def print_answer(answer: Answer) -> None:
    style = "" if answer.grounded else "yellow"
    console.print(answer.answer, style=style, highlight=False, markup=False)
    if answer.citations:
        console.print("\n[bold]Sources[/]")
        for c in answer.citations:
            where = " — ".join(x for x in (c.section, f"p. {c.page}" if c.page else None) if x)
            console.print(f"  [{c.n}] {c.title}" + (f" — {where}" if where else "") + f"  ({c.source})",
                          highlight=False, markup=False)
