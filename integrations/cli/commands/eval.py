from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import typer

from integrations.cli.common import console, err_console, fail, load_settings, print_json, user_errors


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_command(
        dataset: Path = typer.Option(None, "--dataset", help="Dataset file (.yaml or .jsonl); default: the bundled eval/dataset.yaml."),
        as_json: bool = typer.Option(False, "--json", help="Print every figure and per-item result as JSON."),
        report: Path = typer.Option(None, "--report", help="Write report.md, PNG charts and run.json into this folder (compared with the previous run there)."),
        fail_under: list[str] = typer.Option([], "--fail-under", metavar="METRIC=VALUE", help="Exit 1 if a higher-is-better metric is below VALUE, e.g. calc_exact=1.0 or qa.fact_coverage=0.8. Repeatable."),
        fail_over: list[str] = typer.Option([], "--fail-over", metavar="METRIC=VALUE", help="Exit 1 if a lower-is-better metric is above VALUE, e.g. invented_citations=0 or latency_p95=2.0. Repeatable."),
        baseline: bool = typer.Option(False, "--baseline", help="Also run the naive LangChain RAG baseline on the same dataset and embeddings."),
        kind: list[str] = typer.Option([], "--kind", help="Only items of this kind (qa, fact, calc, decline). Repeatable."),
        split: str = typer.Option("all", "--split", metavar="dev|test|all", help="Only the items of this split: dev (tuned on), test (held out) or all (default). Gates apply to these items."),
        faithfulness: bool = typer.Option(False, "--faithfulness", help="Also have the configured chat model (PARTNERSHIP_LLM_*) judge how many claims of each answer its cited snippets support."),
    ) -> None:
        """Run the evaluation set through the assistant and report retrieval, citation and answer metrics.

        Exit status: 0 all thresholds met, 1 a threshold failed, 2 bad dataset, arguments or index.
        """
        from eval.report import print_console, write_report
        from eval.session import EvalOptions, EvalUsageError, run_session

        options = EvalOptions(dataset=dataset, fail_under=fail_under, fail_over=fail_over, kinds=kind, split=split,
                              baseline=baseline, faithfulness=faithfulness)
        try:
            with user_errors():
                session = run_session(load_settings(), options, progress=None if as_json else _progress)
        except EvalUsageError as exc:
            raise fail(str(exc)) from None
        if report:
            files = write_report(report, session.payload)
            where = err_console if as_json else console
            where.print(f"Report written to {files.markdown}", highlight=False)
        if as_json:
            print_json(session.payload)
        else:
            print_console(session.payload, console)
        if session.failures:
            err_console.print("[bold red]Evaluation below threshold:[/] " + "; ".join(session.failures), highlight=False)
            raise typer.Exit(1)

    @contextmanager
    def _progress(name: str, total: int):
        from rich.progress import Progress

        with Progress(console=err_console, transient=True) as progress:
            task = progress.add_task(f"{name}: asking {total} questions", total=total)
            yield lambda _: progress.advance(task)
