"""One evaluation run, start to finish: options checked, dataset loaded and narrowed, sources checked
against the index, the assistant (and optionally the baseline) run, thresholds applied, the payload built.
`partnership eval` only parses its options, calls `run_session` and prints."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from eval.metrics import ItemResult
from eval.schema import KINDS, SPLITS, DatasetError, EvalItem, load_dataset
from eval.thresholds import Threshold, ThresholdError, check_thresholds, parse_threshold

# (system name, number of items) -> a context giving the per-item callback (the CLI's progress bar)
Progress = Callable[[str, int], AbstractContextManager[Callable[[ItemResult], None] | None]]


class EvalUsageError(ValueError):
    """Options, dataset or index the evaluation cannot run with (the CLI exits 2 with this message)."""


@dataclass
class EvalOptions:
    dataset: Path | None = None
    fail_under: list[str] = field(default_factory=list)
    fail_over: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    split: str = "all"
    baseline: bool = False
    faithfulness: bool = False


@dataclass
class EvalSession:
    payload: dict
    failures: list[str]  # thresholds not met; empty = the gate passed


def thresholds_of(options: EvalOptions) -> list[Threshold]:
    try:
        return ([parse_threshold(s, "under") for s in options.fail_under]
                + [parse_threshold(s, "over") for s in options.fail_over])
    except ThresholdError as exc:
        raise EvalUsageError(str(exc)) from None


def select_items(options: EvalOptions) -> list[EvalItem]:
    """The dataset's items of the asked split and kinds; EvalUsageError when there are none or it is bad."""
    unknown_kinds = sorted(set(options.kinds) - set(KINDS))
    if unknown_kinds:
        raise EvalUsageError(f"--kind {', '.join(unknown_kinds)}: kinds are {', '.join(KINDS)}")
    if options.split not in SPLITS + ("all",):
        raise EvalUsageError(f"--split {options.split}: use {', '.join(SPLITS)} or all")
    try:
        items = load_dataset(options.dataset)
    except DatasetError as exc:
        raise EvalUsageError(f"bad dataset {exc}") from None
    if options.split != "all":
        items = [i for i in items if i.split == options.split]
        if not items:
            raise EvalUsageError(f"the dataset has no items in split {options.split} "
                                 f"(set `split: {options.split}` on the items)")
    if options.kinds:
        items = [i for i in items if i.kind in options.kinds]
        if not items:
            where = f" in split {options.split}" if options.split != "all" else ""
            raise EvalUsageError(f"the dataset has no items of kind {', '.join(options.kinds)}{where}")
    return items


def check_sources(items: list[EvalItem], indexed: set[str]) -> None:
    """Every expected source must be an ingested document, or the retrieval figures mean nothing."""
    not_indexed = [f"{i.id}: source {s!r} is not in the index" for i in items for s in i.sources if s not in indexed]
    if not_indexed:
        raise EvalUsageError("bad dataset (expected sources must be ingested documents)\n"
                             + "\n".join(f"  - {p}" for p in not_indexed))


def run_session(settings, options: EvalOptions, progress: Progress | None = None) -> EvalSession:
    """Run the evaluation. Raises EvalUsageError, or the assistant's own errors (empty index, unreachable
    store, bad chat model settings) for the caller to report."""
    from assistant.errors import IndexEmptyError
    from eval.report import build_payload
    from eval.runner import build_answerer, build_baseline, evaluate

    thresholds = thresholds_of(options)
    if options.faithfulness and not settings.llm_base_url:
        raise EvalUsageError("--faithfulness needs a chat model to judge with: set PARTNERSHIP_LLM_BASE_URL and "
                             "PARTNERSHIP_LLM_MODEL")
    items = select_items(options)
    assistant = build_answerer(settings)
    if not assistant.is_ready():
        raise IndexEmptyError()
    check_sources(items, {d["source"] for d in assistant.documents()})
    judge = None
    if options.faithfulness:
        from eval.faithfulness import build_judge

        judge = build_judge(settings)
    progress = progress or (lambda name, total: nullcontext())

    def run(answerer, name: str, judge=None):
        with progress(name, len(items)) as on_item:
            return evaluate(answerer, items, name=name, judge=judge, on_item=on_item)

    runs = [run(assistant, "assistant", judge)]
    if options.baseline:
        if not Path(settings.corpus_dir).is_dir():
            raise EvalUsageError(f"--baseline reads the corpus folder, and {settings.corpus_dir} is not a folder "
                                 f"(set PARTNERSHIP_CORPUS_DIR)")
        with build_baseline(settings) as naive:
            runs.append(run(naive, "baseline"))
    failures = check_thresholds(runs[0].summary, thresholds)
    label = str(options.dataset) if options.dataset else "eval/dataset.yaml (bundled)"
    return EvalSession(build_payload(label, runs, failures, split=options.split), failures)

