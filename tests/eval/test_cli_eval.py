"""`partnership eval` end to end on a 5-item dataset, with the real assistant over the ingested corpus."""
from __future__ import annotations

import json
import re
import shutil

import pytest
import yaml
from typer.testing import CliRunner

from eval.metrics import fact_found, ranked_sources
from eval.schema import load_dataset
from integrations.cli.app import app
from tests.conftest import CORPUS

runner = CliRunner()
FIVE = ["ealing-qa-05-verbatim", "fact-bdsip-ownership", "calc-elp-net-s2-2fe", "decline-croydon-fee",
        "decline-capital"]


@pytest.fixture
def five_items(tmp_path):
    items = [i for i in load_dataset() if i.id in FIVE]
    path = tmp_path / "five.yaml"
    path.write_text(yaml.safe_dump({"items": [i.model_dump(exclude_defaults=True) for i in items]}), encoding="utf-8")
    return path, items


@pytest.fixture
def indexed_env(indexed_settings, monkeypatch):
    monkeypatch.setenv("PARTNERSHIP_DATA_DIR", str(indexed_settings.data_dir))
    return indexed_settings


def test_json_results_are_what_the_assistant_answers(indexed_env, assistant, five_items):
    path, items = five_items
    result = runner.invoke(app, ["eval", "--dataset", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    ours = payload["systems"]["assistant"]
    assert payload["items"] == 5 and set(ours["by_kind"]) == {"qa", "fact", "calc", "decline"}
    assert ours["overall"]["items"] == 5 and ours["overall"]["latency_p50"] > 0
    by_id = {r["id"]: r for r in ours["items"]}
    for item in items:
        got = by_id[item.id]
        answer = assistant.ask(item.question)  # the same entry point: the eval must report exactly this
        assert got["answer"] == answer.answer and got["grounded"] == answer.grounded
        assert [c["source"] for c in got["citations"]] == [c.source for c in answer.citations]
        assert got["retrieved_sources"] == ranked_sources(d.metadata["source"] for d in assistant.retrieve(item.question))
        assert got["missing_facts"] == [f for f in item.facts if not fact_found(f, answer.answer)]
        if item.kind == "decline":
            assert got["scores"]["decline_accuracy"] == (0.0 if answer.grounded else 1.0)
        else:
            assert got["scores"]["no_decline_rate"] == (1.0 if answer.grounded else 0.0)
    assert ours["overall"]["invented_citations"] == sum(len(r["invented"]) for r in ours["items"])


def test_report_folder_with_baseline_then_delta_on_the_second_run(indexed_env, five_items, tmp_path, monkeypatch):
    path, _ = five_items
    folder = tmp_path / "report"
    # The baseline embeds its corpus on every run: two of the documents keep this test quick on a busy machine.
    small = tmp_path / "small-corpus"
    small.mkdir()
    for name in ("ealing-elp-qa-briefings-2017-11.txt", "ealing-elp-prospectus-2018-19.txt"):
        shutil.copy(CORPUS / name, small / name)
    monkeypatch.setenv("PARTNERSHIP_CORPUS_DIR", str(small))
    first = runner.invoke(app, ["eval", "--dataset", str(path), "--report", str(folder), "--baseline", "--json"])
    assert first.exit_code == 0, first.output
    payload = json.loads(first.stdout)
    assert set(payload["systems"]) == {"assistant", "baseline"}
    base = payload["systems"]["baseline"]
    assert base["overall"]["decline_accuracy"] == 0.0, "the naive pipeline never declines"
    assert all(len(r["citations"]) == 1 for r in base["items"])
    assert {c["source"] for r in base["items"] for c in r["citations"]} <= set(p.name for p in small.iterdir())
    names = {p.name for p in folder.iterdir()}
    assert {"report.md", "metrics_by_kind.png", "baseline_comparison.png", "run.json"} <= names
    assert "delta_vs_previous.png" not in names

    second = runner.invoke(app, ["eval", "--dataset", str(path), "--report", str(folder)])
    assert second.exit_code == 0, second.output
    assert "Report written to" in second.stdout and re.search(r"items +│ +5 +│ +1 +│ +1 +│ +1 +│ +2", second.stdout)
    md = (folder / "report.md").read_text()
    assert "Compared with the previous run in this folder" in md
    assert (folder / "delta_vs_previous.png").read_bytes()[:4] == b"\x89PNG"
    assert len(list((folder / "history").iterdir())) >= 1


def test_thresholds_exit_1_naming_the_metric(indexed_env, five_items):
    path, _ = five_items
    result = runner.invoke(app, ["eval", "--dataset", str(path), "--kind", "decline", "--kind", "calc",
                                 "--fail-under", "recall_at_1=1.01", "--fail-over", "invented_citations=0"])
    assert result.exit_code == 1, result.output
    assert "recall_at_1 = " in result.output and "below the minimum 1.01" in result.output
    assert "Traceback" not in result.output
    ok = runner.invoke(app, ["eval", "--dataset", str(path), "--kind", "decline", "--fail-under", "decline_accuracy=0"])
    assert ok.exit_code == 0, ok.output


def test_bad_dataset_and_arguments_exit_2(indexed_env, tmp_path, five_items):
    bad = tmp_path / "bad.yaml"
    bad.write_text("items:\n  - {id: q1, kind: calc, question: 'Q?', reference: R, origin: o}\n"
                   "  - {id: q2, kind: decline, question: 'Q?', reference: R, origin: o, facts: [x]}\n")
    result = runner.invoke(app, ["eval", "--dataset", str(bad)])
    assert result.exit_code == 2
    assert "q1: " in result.output and "q2: " in result.output and "Traceback" not in result.output

    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("items:\n  - {id: q3, kind: fact, question: 'Q?', reference: R, origin: o, facts: [x], sources: [other.txt]}\n")
    result = runner.invoke(app, ["eval", "--dataset", str(unknown)])
    assert result.exit_code == 2 and "q3: source 'other.txt' is not in the index" in result.output

    path, _ = five_items
    for args, words in ((["--fail-under", "invented_citations=0"], "use --fail-over"),
                        (["--kind", "trivia"], "kinds are qa, fact, calc, decline")):
        result = runner.invoke(app, ["eval", "--dataset", str(path), *args])
        assert result.exit_code == 2 and words in result.output, result.output


def test_eval_before_ingest_says_so(five_items):
    path, _ = five_items
    result = runner.invoke(app, ["eval", "--dataset", str(path)])
    assert result.exit_code == 2 and "partnership ingest" in result.output
