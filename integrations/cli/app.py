"""The `partnership` command. Each command lives in its own module under `commands/` with `register(app)`."""
from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="partnership",
    help="Answers questions about school education partnerships from their own documents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One line per command module; keep alphabetical to avoid merge churn.
COMMAND_MODULES = [
    "ask",
    "calc",
    "chat",
    "docs",
    "doctor",
    "eval",
    "feedback",
    "ingest",
    "serve",
    "slack",
]

for _name in COMMAND_MODULES:
    importlib.import_module(f"integrations.cli.commands.{_name}").register(app)


def main() -> None:
    app()
