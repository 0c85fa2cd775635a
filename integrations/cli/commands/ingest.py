from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from integrations.cli.common import console, err_console, fail, load_settings, print_json, user_errors


@contextmanager
def interrupted_cleanly():
    """Ctrl-C mid-ingest: every document is still at its old or new version (see ingest/pipeline.py)."""
    try:
        yield
    except KeyboardInterrupt:
        raise fail("interrupted; the index is consistent — run `partnership ingest` again to finish.", 130) from None


class RichProgress:
    """Progress bar over the chunks being embedded (the slow part of ingest)."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.task = None

    def start(self, total_chunks: int) -> None:
        self.task = self.progress.add_task("Embedding chunks", total=total_chunks)

    def advance(self, chunks: int) -> None:
        self.progress.advance(self.task, chunks)


def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(
        paths: list[Path] = typer.Argument(None, help="Files or folders to ingest (default: the corpus folder)."),
        rebuild: bool = typer.Option(
            False, "--rebuild",
            help="Drop the index and ingest from scratch (needed after changing PARTNERSHIP_EMBEDDING_MODEL).",
        ),
        follow_symlinks: bool = typer.Option(False, "--follow-symlinks", help="Follow symlinks that leave the folder."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object with the counts."),
    ) -> None:
        """Chunk documents (.txt, .md, .pdf, .docx) into the index. Unchanged files are skipped; removed files are dropped.

        Safe to interrupt or kill at any point: the next run finishes the work. One ingest at a time per data dir.
        """
        from assistant.factory import build_store
        from ingest.pipeline import ingest_paths

        settings = load_settings()
        with user_errors(), interrupted_cleanly():
            store = build_store(settings)
            targets = paths or [settings.corpus_dir]
            if as_json:
                report = ingest_paths(targets, settings, store, rebuild=rebuild, follow_symlinks=follow_symlinks)
            else:
                with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                              console=err_console, transient=True) as bar:
                    report = ingest_paths(targets, settings, store, rebuild=rebuild,
                                          follow_symlinks=follow_symlinks, progress=RichProgress(bar))
        if as_json:
            print_json(report.to_dict())
        else:
            for failure in report.failed:
                err_console.print(f"[red]skipped[/] {failure['source']}: {failure['error']}", highlight=False)
            console.print(
                f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
                f"removed {report.removed}, failed {len(report.failed)} — {report.chunks} chunks in the index"
            )
        if report.failed:
            raise typer.Exit(1)
