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


def split_run() -> SystemRun:
    """Two dev and three test items; two of the test items have a passage, one lost at the final stage."""
    passage = dict(kind="qa", reference="r", facts=["cluster model"], sources=["q.txt"], origin="hand-made",
                   passage="the cluster model")
    results = [
        score_item(item("dev-qa", "qa", ["cluster model"], ["q.txt"]), "The cluster model [1].", True,
                   [CitedSource(n=1, source="q.txt")], ["q.txt"], 0.1),
        score_item(item("dev-decline", "decline"), "I can't answer that.", False, [], ["q.txt"], 0.1),
        score_item(EvalItem(id="test-found", question="q1?", split="test", **passage), "The cluster model.", True,
                   [], ["q.txt"], 0.1, passage_ranks={"lexical": 4, "vector": 1, "final": 1}),
        score_item(EvalItem(id="test-lost", question="q2?", split="test", **passage), "Something.", True,
                   [], ["q.txt", "x.txt"], 0.1, passage_ranks={"lexical": 2, "vector": None, "final": 7}),
        score_item(item("test-calc", "calc", ["£4,467"], ["t.txt"]).model_copy(update={"split": "test"}),
                   "£4,467 it is.", True, [], ["t.txt"], 0.1),
    ]
    return SystemRun(name="assistant", results=results, summary=aggregate(results))


def test_console_and_json_show_dev_and_test_side_by_side_and_where_misses_are_lost():
    payload = build_payload("d.yaml", [split_run()], split="all")
    assert payload["split"] == "all"
    ours = payload["systems"]["assistant"]
    assert set(ours["by_split"]) == {"dev", "test"}
    assert ours["by_split"]["dev"]["items"] == 2 and ours["by_split"]["test"]["items"] == 3
    assert ours["by_split"]["dev"]["pass_rate"] == 1.0 and ours["by_split"]["test"]["pass_rate"] == pytest.approx(2 / 3)
    assert ours["by_split"]["test"]["recall_at_1"] == pytest.approx(2 / 3), "passage-level for the passage items"
    assert ours["by_split"]["test"]["source_recall_at_5"] == 1.0
    assert ours["by_split"]["test"]["stage_recall_at_5"] == {"lexical": 1.0, "vector": 0.5, "final": 0.5}
    assert ours["overall"]["items"] == 5 and "by_kind" in ours and "by_variant" in ours
    json.dumps(payload)

    out = io.StringIO()
    print_console(payload, Console(file=out, width=200, color_system=None))
    text = out.getvalue()
    header = next(line for line in text.splitlines() if "metric" in line)
    assert re.search(r"metric +┃ +dev +┃ +test +┃ +all", header), header
    assert re.search(r"items +│ +2 +│ +3 +│ +5", text)
    assert re.search(r"pass_rate +│ +1\.000 +│ +0\.667 +│ +0\.800", text)
    assert re.search(r"lead_fact_rate +│", text) and re.search(r"source_recall_at_5 +│", text)
    assert "Passage recall@5 per retrieval stage" in text
    assert re.search(r"vector +│ +– +│ +0\.500 +│ +0\.500", text)
    assert "Where misses are lost: 1 passage(s) not ranked first — the rank after each stage" in text
    assert re.search(r"test-lost +│ +test +│ +2 +│ +– +│ +7", text)
    assert "test-found │" not in text.split("Where misses are lost")[1]


def test_markdown_has_split_columns_and_where_misses_are_lost(tmp_path):
    folder = tmp_path / "report"
    write_report(folder, build_payload("d.yaml", [split_run()]))
    md = (folder / "report.md").read_text()
    assert "## By split: dev (tuned on) and test (held out) (assistant)" in md
    assert "| metric | dev (2) | test (3) | all (5) |" in md
    assert "| pass_rate | 1.000 | 0.667 | 0.800 |" in md
    lost = md.split("## Where misses are lost")[1].split("## Charts")[0]
    assert "| stage | dev (2) | test (3) | all (5) |" in lost and "| vector | – | 0.500 | 0.500 |" in lost
    assert "1 passage(s) not ranked first." in lost
    assert "| item | split | lexical | vector | final |" in lost and "| `test-lost` | test | 2 | – | 7 |" in lost
    assert "test-found" not in lost
    failing = md.split("## Failing items")[1]
    assert "### `test-lost` (qa)" in failing and "- **Split:** test" in failing
    assert "rank per stage: lexical 2, vector –, final 7" in failing
    saved = json.loads((folder / "run.json").read_text())
    assert saved["systems"]["assistant"]["items"][3]["passage_ranks"] == {"lexical": 2, "vector": None, "final": 7}


def test_without_passages_there_is_no_stage_section(tmp_path):
    payload = build_payload("d.yaml", [make_run("assistant", "£4,467 [1]")])
    out = io.StringIO()
    print_console(payload, Console(file=out, width=160, color_system=None))
    assert "Where misses are lost" not in out.getvalue() and "Passage recall" not in out.getvalue()
    assert re.search(r"items +│ +4 +│ +4", out.getvalue()), "dev | all"
    write_report(tmp_path / "r", payload)
    assert "Where misses are lost" not in (tmp_path / "r" / "report.md").read_text()
