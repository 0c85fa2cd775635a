from __future__ import annotations

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
        from eval.schema import KINDS, SPLITS, DatasetError, load_dataset
        from eval.thresholds import ThresholdError, check_thresholds, parse_threshold

        settings = load_settings()
        try:
            thresholds = [parse_threshold(s, "under") for s in fail_under] + [parse_threshold(s, "over") for s in fail_over]
        except ThresholdError as exc:
            raise fail(str(exc)) from None
        if faithfulness and not settings.llm_base_url:
            raise fail("--faithfulness needs a chat model to judge with: set PARTNERSHIP_LLM_BASE_URL and PARTNERSHIP_LLM_MODEL")
        unknown_kinds = sorted(set(kind) - set(KINDS))
        if unknown_kinds:
            raise fail(f"--kind {', '.join(unknown_kinds)}: kinds are {', '.join(KINDS)}")
        if split not in SPLITS + ("all",):
            raise fail(f"--split {split}: use {', '.join(SPLITS)} or all")
        try:
            items = load_dataset(dataset)
        except DatasetError as exc:
            raise fail(f"bad dataset {exc}") from None
        if split != "all":
            items = [i for i in items if i.split == split]
            if not items:
                raise fail(f"the dataset has no items in split {split} (set `split: {split}` on the items)")
        if kind:
            items = [i for i in items if i.kind in kind]
            if not items:
                where = f" in split {split}" if split != "all" else ""
                raise fail(f"the dataset has no items of kind {', '.join(kind)}{where}")

        from eval.runner import build_answerer, build_baseline

        with user_errors():
            assistant = build_answerer(settings)
            if not assistant.is_ready():
                from assistant.errors import IndexEmptyError

                raise IndexEmptyError()
        indexed = {d["source"] for d in assistant.documents()}
        not_indexed = [f"{i.id}: source {s!r} is not in the index" for i in items for s in i.sources if s not in indexed]
        if not_indexed:
            raise fail("bad dataset (expected sources must be ingested documents)\n" + "\n".join(f"  - {p}" for p in not_indexed))

        judge = None
        if faithfulness:
            from eval.faithfulness import build_judge

            with user_errors():
                judge = build_judge(settings)
        runs = [_run(assistant, items, "assistant", show_progress=not as_json, judge=judge)]
        if baseline:
            if not Path(settings.corpus_dir).is_dir():
                raise fail(f"--baseline reads the corpus folder, and {settings.corpus_dir} is not a folder (set PARTNERSHIP_CORPUS_DIR)")
            with build_baseline(settings) as naive:
                runs.append(_run(naive, items, "baseline", show_progress=not as_json))

        from eval.report import build_payload, print_console, write_report

        failures = check_thresholds(runs[0].summary, thresholds)
        label = str(dataset) if dataset else "eval/dataset.yaml (bundled)"
        payload = build_payload(label, runs, failures, split=split)
        if report:
            files = write_report(report, payload)
            where = err_console if as_json else console
            where.print(f"Report written to {files.markdown}", highlight=False)
        if as_json:
            print_json(payload)
        else:
            print_console(payload, console)
        if failures:
            err_console.print("[bold red]Evaluation below threshold:[/] " + "; ".join(failures), highlight=False)
            raise typer.Exit(1)

    def _run(answerer, items, name: str, show_progress: bool, judge=None):
        from rich.progress import Progress

        from eval.runner import evaluate

        if not show_progress:
            return evaluate(answerer, items, name=name, judge=judge)
        with Progress(console=err_console, transient=True) as progress:
            task = progress.add_task(f"{name}: asking {len(items)} questions", total=len(items))
            return evaluate(answerer, items, name=name, judge=judge, on_item=lambda _: progress.advance(task))
