from __future__ import annotations

import typer
from rich.table import Table

from integrations.cli.common import console, load_settings, print_json, user_errors


def register(app: typer.Typer) -> None:
    @app.command()
    def docs(as_json: bool = typer.Option(False, "--json", help="Print the list as JSON.")) -> None:
        """List the indexed documents with their chunk counts."""
        from assistant.factory import build_store

        with user_errors():
            documents = build_store(load_settings()).documents_summary()
        if as_json:
            print_json(documents)
            return
        if not documents:
            console.print("Nothing is indexed yet: run `partnership ingest`.")
            return
        table = Table("source", "title", "kind", "chunks")
        for d in documents:
            table.add_row(d["source"], d["title"], d["kind"], str(d["chunks"]))
        console.print(table)
