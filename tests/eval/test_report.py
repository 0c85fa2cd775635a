"""Thresholds and the report: JSON payload, console tables, report folder with charts and the delta
against the previous run."""
from __future__ import annotations

import io
import re
import json

import pytest
from rich.console import Console

from eval.metrics import CitedSource, aggregate, score_item
from eval.report import build_payload, print_console, write_report
from eval.runner import SystemRun
from eval.schema import EvalItem
from eval.thresholds import ThresholdError, check_thresholds, parse_threshold

PNG = b"\x89PNG\r\n\x1a\n"


def item(id, kind, facts=(), sources=()):
    return EvalItem(id=id, kind=kind, question=f"{id}?", reference=f"ref {id}", facts=list(facts),
                    sources=list(sources), origin="hand-made")


def make_run(name: str, calc_answer: str) -> SystemRun:
    paraphrase = EvalItem(id="qa-2", kind="qa", variant="paraphrase", question="qa-2?", reference="r",
                          facts=["cluster model"], sources=["q.txt"], origin="hand-made")
    results = [
        score_item(paraphrase, "Something else.", True, [], ["x.txt"], 0.2),
        score_item(item("calc-1", "calc", ["£4,467"], ["t.txt"]), calc_answer, True,
                   [CitedSource(n=1, source="t.txt")], ["t.txt"], 0.05),
        score_item(item("qa-1", "qa", ["cluster model"], ["q.txt"]), "The cluster model [1].", True,
                   [CitedSource(n=1, source="q.txt")], ["x.txt", "q.txt"], 0.15),
        score_item(item("decline-1", "decline"), "I can't answer that.", False, [], ["q.txt"], 0.01),
    ]
    return SystemRun(name=name, results=results, summary=aggregate(results))


def test_thresholds_parse_and_name_the_failing_metric():
    ours = make_run("assistant", "£4,466 [1] [7]").summary
    gates = [parse_threshold("calc_exact=1.0", "under"), parse_threshold("decline_accuracy=1", "under"),
             parse_threshold("invented_citations=0", "over"), parse_threshold("qa.mrr=0.6", "under"),
             parse_threshold("fact.recall_at_1=0.5", "under"), parse_threshold("paraphrase.pass_rate=0.5", "under"),
             parse_threshold("verbatim.pass_rate=0.5", "under")]
    failures = check_thresholds(ours, gates)
    assert failures == [
        "calc_exact = 0 is below the minimum 1",
        "invented_citations = 1 is above the maximum 0",
        "qa.mrr = 0.25 is below the minimum 0.6",
        "fact.recall_at_1 could not be measured (no applicable items in the dataset)",
        "paraphrase.pass_rate = 0 is below the minimum 0.5",
        "verbatim.pass_rate could not be measured (no applicable items in the dataset)",
    ]
    assert check_thresholds(make_run("assistant", "£4,467 [1]").summary, gates[:3]) == []


@pytest.mark.parametrize("spec, direction, message", [
    ("invented_citations=0", "under", "lower-is-better; use --fail-over invented_citations=0"),
    ("calc_exact=1", "over", "higher-is-better; use --fail-under calc_exact=1"),
    ("accuracy=1", "under", "unknown metric 'accuracy'"),
    ("calc_exact", "under", "expected METRIC=VALUE"),
    ("calc_exact=high", "under", "'high' is not a number"),
    ("trivia.mrr=0.5", "under", "unknown scope 'trivia'; use a kind (qa, fact, calc, decline) or a variant"),
])
def test_bad_thresholds_explain_themselves(spec, direction, message):
    with pytest.raises(ThresholdError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_threshold(spec, direction)


def test_console_summary_shows_kinds_baseline_and_failures():
    payload = build_payload("d.yaml", [make_run("assistant", "£4,466 [1]"), make_run("baseline", "nothing")],
                            ["calc_exact = 0 is below the minimum 1"])
    out = io.StringIO()
    print_console(payload, Console(file=out, width=160, color_system=None))
    text = out.getvalue()
    assert re.search(r"items +│ +4 +│ +2 +│ +1 +│ +1", text) and "Documented Q&A pairs" in text and "paraphrase" in text
    assert "naive LangChain RAG baseline" in text
    assert "2 failing item(s): qa-2, calc-1" in text
    assert "FAIL calc_exact = 0 is below the minimum 1" in text
    json.dumps(payload)  # every figure is JSON-ready
    assert payload["systems"]["assistant"]["items"][0]["passed"] is False


def test_report_folder_has_markdown_charts_and_the_delta_on_the_second_run(tmp_path):
    folder = tmp_path / "report"
    first = write_report(folder, build_payload("d.yaml", [make_run("assistant", "£4,466 [1]")]))
    assert first.previous is None
    names = {p.name for p in folder.iterdir()}
    assert {"report.md", "metrics_by_kind.png", "run.json", "history"} <= names
    assert "delta_vs_previous.png" not in names
    md = (folder / "report.md").read_text()
    assert "No previous run in this folder" in md
    assert "### `calc-1` (calc)" in md and "missing: £4,467" in md and "> £4,466 [1]" in md
    assert "![metrics by kind](metrics_by_kind.png)" in md
    assert (folder / "metrics_by_kind.png").read_bytes()[:8] == PNG

    second_payload = build_payload("d.yaml", [make_run("assistant", "£4,467 [1]"), make_run("baseline", "x")])
    second = write_report(folder, second_payload)
    assert second.previous["systems"]["assistant"]["overall"]["calc_exact"] == 0.0
    md = (folder / "report.md").read_text()
    assert "Compared with the previous run" in md
    assert "| calc_exact | 1.000 | 0.000 | +1.000 |" in md  # assistant, baseline, change vs previous
    assert "![delta vs previous](delta_vs_previous.png)" in md
    assert "![baseline comparison](baseline_comparison.png)" in md
    for chart in ("delta_vs_previous.png", "baseline_comparison.png", "metrics_by_kind.png"):
        assert (folder / chart).read_bytes()[:8] == PNG
    assert "## Failing items (1 of 4)" in md and "### `qa-2` (qa)" in md
    assert "| metric | qa (2) | calc (1) | decline (1) | qa paraphrase (1) |" in md
    saved = json.loads((folder / "run.json").read_text())
    assert saved["systems"]["assistant"]["overall"]["calc_exact"] == 1.0
    assert len(list((folder / "history").iterdir())) >= 1
