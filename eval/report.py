"""Presenting a run: the JSON payload, the rich console summary and the report folder (Markdown page,
matplotlib charts, the saved run used as "previous" by the next run in the same folder)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from eval.metrics import ALL_METRICS, LOWER_IS_BETTER
from eval.runner import SystemRun

RUN_FILE = "run.json"
REPORT_FILE = "report.md"
KINDS_CHART = "metrics_by_kind.png"
BASELINE_CHART = "baseline_comparison.png"
DELTA_CHART = "delta_vs_previous.png"
RATE_METRICS = [m for m in ALL_METRICS if m not in LOWER_IS_BETTER]
ANSWER_CHARS = 600


def build_payload(dataset: str, runs: list[SystemRun], threshold_failures: list[str] | None = None,
                  split: str = "all") -> dict:
    """Every figure of the run, JSON-ready: what `--json` prints and what the report folder keeps.
    `split` is the items selected (`--split`): dev, test or all; each system also has `by_split`."""
    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dataset": dataset,
        "split": split,
        "items": len(runs[0].results) if runs else 0,
        "metrics": {"higher_is_better": RATE_METRICS, "lower_is_better": list(LOWER_IS_BETTER)},
        "systems": {run.name: run.to_dict() for run in runs},
        "threshold_failures": threshold_failures or [],
    }


def fmt(metric: str, value) -> str:
    if value is None:
        return "–"
    if metric.startswith("latency"):
        return f"{value * 1000:.0f} ms"
    if metric in ("invented_citations", "errors", "items"):
        return str(int(value))
    return f"{value:.3f}"


def fmt_delta(metric: str, delta) -> str:
    if delta is None:
        return "–"
    if metric.startswith("latency"):
        return f"{delta * 1000:+.0f} ms"
    if metric in ("invented_citations", "errors"):
        return f"{int(delta):+d}"
    return f"{delta:+.3f}"


def deltas(current: dict, previous: dict | None) -> dict[str, float | None]:
    """Overall figure minus the previous run's, per metric (None when either side is missing)."""
    if not previous:
        return {}
    out = {}
    for m in ALL_METRICS:
        a, b = current.get(m), previous.get(m)
        out[m] = None if a is None or b is None else a - b
    return out


def _groups(system: dict) -> list[tuple[str, dict]]:
    """(label, summary) per kind, then per wording of the documented Q&A pairs."""
    return list(system["by_kind"].items()) + [(f"qa {v}", s) for v, s in system.get("by_variant", {}).items()]


def _split_columns(system: dict) -> list[tuple[str, dict]]:
    """(label, summary) per split present (dev, test), then all the selected items."""
    return list(system.get("by_split", {}).items()) + [("all", system["overall"])]


def _stages(items: list[dict]) -> list[str]:
    """Retrieval stage names in the order the items report them (the last one is the final ranking)."""
    return list(dict.fromkeys(stage for i in items for stage in i.get("passage_ranks", {})))


def lost_misses(system: dict) -> list[dict]:
    """Answerable items with a passage whose final passage rank is not 1 (including not retrieved)."""
    out = []
    for item in system["items"]:
        ranks = item.get("passage_ranks") or {}
        if item["kind"] != "decline" and item.get("passage") is not None:
            final = list(ranks.values())[-1] if ranks else None
            if final != 1:
                out.append(item)
    return out


def fmt_rank(rank) -> str:
    return "–" if rank is None else str(rank)


def _table(title: str, columns: list[tuple[str, dict]]) -> Table:
    table = Table(title=title)
    table.add_column("metric", no_wrap=True, min_width=18)
    for label, _ in columns:
        table.add_column(label, justify="right", no_wrap=True)
    for m in ("items",) + ALL_METRICS:
        table.add_row(m, *(fmt(m, summary[m]) for _, summary in columns), end_section=m == "items")
    return table


# -- console -------------------------------------------------------------------------------------------
def print_console(payload: dict, console: Console) -> None:
    systems = payload["systems"]
    ours = systems["assistant"]
    selected = "" if payload.get("split", "all") == "all" else f" (split {payload['split']})"
    console.print(_table(f"Assistant — {payload['items']} items{selected} from {payload['dataset']}: by split",
                         [(f"{label}", summary) for label, summary in _split_columns(ours)]))
    console.print(_table("Assistant by kind", [("overall", ours["overall"])] + list(ours["by_kind"].items())))
    if ours.get("by_variant"):
        console.print(_table("Documented Q&A pairs: verbatim vs paraphrased", list(ours["by_variant"].items())))
    if "baseline" in systems:
        base = systems["baseline"]["overall"]
        side = Table(title="Assistant vs naive LangChain RAG baseline (overall)")
        for col in ("metric", "assistant", "baseline", "difference"):
            side.add_column(col, justify="left" if col == "metric" else "right", no_wrap=True)
        for m in ALL_METRICS:
            a, b = ours["overall"][m], base[m]
            side.add_row(m, fmt(m, a), fmt(m, b), fmt_delta(m, None if a is None or b is None else a - b))
        console.print(side)
    _print_lost(ours, console)
    failing = [i for i in ours["items"] if not i["passed"]]
    if failing:
        console.print(f"[bold]{len(failing)} failing item(s):[/] " + ", ".join(i["id"] for i in failing[:25])
                      + (" …" if len(failing) > 25 else ""), highlight=False)
    for message in payload["threshold_failures"]:
        console.print(f"[bold red]FAIL[/] {message}", highlight=False)


CONSOLE_MISSES = 30


def _print_lost(system: dict, console: Console) -> None:
    """Passage recall@5 per retrieval stage, and each passage item not ranked first: its rank per stage."""
    stages = _stages(system["items"])
    if not stages:
        return
    columns = _split_columns(system)
    console.print("[bold]Passage recall@5 per retrieval stage[/] (items with a passage; the last stage is the "
                  "final ranking)", highlight=False)
    recall = Table()
    recall.add_column("stage", no_wrap=True)
    for label, _ in columns:
        recall.add_column(label, justify="right", no_wrap=True)
    for stage in stages:
        recall.add_row(stage, *(fmt("rate", summary.get("stage_recall_at_5", {}).get(stage)) for _, summary in columns))
    console.print(recall)
    lost = lost_misses(system)
    if not lost:
        console.print("Every passage is the first chunk of the final ranking.")
        return
    console.print(f"[bold]Where misses are lost:[/] {len(lost)} passage(s) not ranked first — the rank after each "
                  "stage (– = not retrieved)", highlight=False)
    table = Table()
    table.add_column("item", no_wrap=True)
    table.add_column("split", no_wrap=True)
    for stage in stages:
        table.add_column(stage, justify="right", no_wrap=True)
    for item in lost[:CONSOLE_MISSES]:
        ranks = item.get("passage_ranks", {})
        table.add_row(item["id"], item.get("split", "dev"), *(fmt_rank(ranks.get(stage)) for stage in stages))
    console.print(table)
    if len(lost) > CONSOLE_MISSES:
        console.print(f"… and {len(lost) - CONSOLE_MISSES} more (all of them in the --report page and --json).")


# -- report folder ---------------------------------------------------------------------------------------
@dataclass
class ReportFiles:
    folder: Path
    markdown: Path
    charts: list[Path] = field(default_factory=list)
    previous: dict | None = None


def _plt():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def _bar_chart(path: Path, title: str, series: dict[str, list[float]], labels: list[str]) -> Path:
    plt = _plt()
    keep = [i for i in range(len(labels)) if any(v[i] == v[i] for v in series.values())]  # NaN != NaN
    labels = [labels[i] for i in keep]
    series = {name: [values[i] for i in keep] for name, values in series.items()}
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        xs = [x + i * width - 0.4 + width / 2 for x in range(len(labels))]
        ax.bar(xs, values, width, label=name)
    ax.set_xticks(range(len(labels)), labels, rotation=25, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.legend(fontsize="small", ncols=min(len(series), 5))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _delta_chart(path: Path, delta: dict[str, float | None]) -> Path:
    plt = _plt()
    labels = [m for m in RATE_METRICS if delta.get(m) is not None]
    values = [delta[m] for m in labels]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    ax.bar(labels, values, color=["#2a9d4b" if v >= 0 else "#c0392b" for v in values])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_title("Change against the previous run (overall; above zero is better)")
    ax.tick_params(axis="x", rotation=25)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _values(summary: dict) -> list[float]:
    # NaN draws no bar: a metric that does not apply to a kind must not look like a score of 0.
    return [float("nan") if summary.get(m) is None else summary[m] for m in RATE_METRICS]


def _load_previous(folder: Path) -> dict | None:
    try:
        return json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # first run in this folder, or an unreadable leftover: no comparison


def _markdown(payload: dict, previous: dict | None, delta: dict, charts: list[Path]) -> str:
    systems = payload["systems"]
    ours = systems["assistant"]
    base = systems.get("baseline")
    lines = [
        "# Partnership Assistant — evaluation report",
        "",
        f"Run {payload['created']} on `{payload['dataset']}` ({payload['items']} items).",
    ]
    if previous:
        lines.append(f"Compared with the previous run in this folder ({previous.get('created', 'unknown time')}).")
    else:
        lines.append("No previous run in this folder: the next run will show the change against this one.")
    if payload["threshold_failures"]:
        lines += ["", "**Thresholds not met:**", ""] + [f"- {m}" for m in payload["threshold_failures"]]
    header = "| metric | assistant |" + (" baseline |" if base else "") + (" Δ previous |" if previous else "")
    lines += ["", "## Headline figures (overall)", "", header,
              "|---|---:|" + ("---:|" if base else "") + ("---:|" if previous else "")]
    for m in ALL_METRICS:
        row = f"| {m} | {fmt(m, ours['overall'][m])} |"
        if base:
            row += f" {fmt(m, base['overall'][m])} |"
        if previous:
            row += f" {fmt_delta(m, delta.get(m))} |"
        lines.append(row)
    lines += _column_table("By split: dev (tuned on) and test (held out) (assistant)", _split_columns(ours))
    lines += _column_table("By kind, and Q&A pairs verbatim vs paraphrased (assistant)", _groups(ours))
    lines += _lost_markdown(ours)
    lines += ["", "## Charts", ""] + [f"![{c.stem.replace('_', ' ')}]({c.name})" for c in charts]
    failing = [i for i in ours["items"] if not i["passed"]]
    lines += ["", f"## Failing items ({len(failing)} of {len(ours['items'])})", ""]
    if not failing:
        lines.append("None.")
    for item in failing:
        answer = item["answer"] if len(item["answer"]) <= ANSWER_CHARS else item["answer"][:ANSWER_CHARS] + " …"
        quoted = "\n".join("> " + ln for ln in (answer or "(no answer)").splitlines())
        extra = ["- **Earlier turns:** " + " / ".join(f"{t['role']}: {t['content']}" for t in item["history"])] \
            if item.get("history") else []
        if item.get("passage") is not None:
            ranks = item.get("passage_ranks") or {}
            extra.append(f"- **Passage:** “{item['passage']}” — rank per stage: "
                         + (", ".join(f"{k} {fmt_rank(v)}" for k, v in ranks.items()) or "(not retrieved)"))
        lines += [
            f"### `{item['id']}` ({item['kind']})",
            "",
            f"- **Split:** {item.get('split', 'dev')}",
            *extra,
            f"- **Question:** {item['question']}",
            f"- **Expected:** {item['reference']}",
            f"- **What went wrong:** {'; '.join(item['failures'])}",
            f"- **Retrieved sources:** {', '.join(item['retrieved_sources']) or '(none)'}",
            "- **Answer given:**",
            "",
            quoted,
            "",
        ]
    lines += ["", "## Metric definitions", "",
              "See the README section *Evaluation*: rates are means over the items a metric applies to; "
              "`invented_citations` and `errors` are totals; latencies are per answer."]
    return "\n".join(lines) + "\n"


def _lost_markdown(system: dict) -> list[str]:
    stages = _stages(system["items"])
    if not stages:
        return []
    columns = _split_columns(system)
    lines = ["", "## Where misses are lost", "",
             "Items with a `passage`: the share whose passage is in the first 5 chunks after each retrieval "
             "stage (the last stage is the final ranking), then every such item whose passage is not the "
             "first chunk of the final ranking, with its rank after each stage (– = not retrieved).", "",
             "| stage | " + " | ".join(f"{label} ({summary['items']})" for label, summary in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for stage in stages:
        lines.append(f"| {stage} | " + " | ".join(fmt("rate", s.get("stage_recall_at_5", {}).get(stage))
                                                   for _, s in columns) + " |")
    lost = lost_misses(system)
    lines += ["", f"{len(lost)} passage(s) not ranked first.", ""]
    if lost:
        lines += ["| item | split | " + " | ".join(stages) + " |", "|---|---|" + "---:|" * len(stages)]
        for item in lost:
            ranks = item.get("passage_ranks", {})
            lines.append(f"| `{item['id']}` | {item.get('split', 'dev')} | "
                         + " | ".join(fmt_rank(ranks.get(stage)) for stage in stages) + " |")
    return lines


def write_report(folder: Path, payload: dict) -> ReportFiles:
    """Write report.md and the charts into `folder`, comparing with the run previously saved there, then
    save this run as the new `run.json` (older runs are kept under `history/`)."""
    folder.mkdir(parents=True, exist_ok=True)
    previous = _load_previous(folder)
    ours = payload["systems"]["assistant"]
    prev_overall = (previous or {}).get("systems", {}).get("assistant", {}).get("overall")
    delta = deltas(ours["overall"], prev_overall)
    series = {"overall": _values(ours["overall"])}
    for kind, summary in ours["by_kind"].items():
        series[kind] = _values(summary)
    charts = [_bar_chart(folder / KINDS_CHART, "Assistant: metrics by kind (missing = not applicable)", series, RATE_METRICS)]
    if "baseline" in payload["systems"]:
        base = payload["systems"]["baseline"]["overall"]
        charts.append(_bar_chart(
            folder / BASELINE_CHART, "Assistant vs naive LangChain RAG baseline (overall)",
            {"assistant": _values(ours["overall"]), "baseline": _values(base)},
            RATE_METRICS,
        ))
    if prev_overall:
        charts.append(_delta_chart(folder / DELTA_CHART, delta))
    else:
        (folder / DELTA_CHART).unlink(missing_ok=True)  # a stale chart would describe another comparison
    markdown = folder / REPORT_FILE
    markdown.write_text(_markdown(payload, previous, delta, charts), encoding="utf-8")
    history = folder / "history"
    history.mkdir(exist_ok=True)
    stamp = payload["created"].replace(":", "").replace("+0000", "Z")
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    (history / f"run-{stamp}.json").write_text(text, encoding="utf-8")
    (folder / RUN_FILE).write_text(text, encoding="utf-8")
    return ReportFiles(folder=folder, markdown=markdown, charts=charts, previous=previous)


def _column_table(title: str, columns: list[tuple[str, dict]]) -> list[str]:
    """A markdown table: one row per metric, one column per (label, summary)."""
    lines = ["", f"## {title}", "",
             "| metric | " + " | ".join(f"{label} ({summary['items']})" for label, summary in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    return lines + [f"| {m} | " + " | ".join(fmt(m, summary[m]) for _, summary in columns) + " |" for m in ALL_METRICS]
