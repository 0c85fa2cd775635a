"""`partnership eval` end to end on a 5-item dataset, with the real assistant over the ingested corpus."""
from __future__ import annotations

import json
import re
import shutil

import pytest
import yaml
from typer.testing import CliRunner

from eval.metrics import fact_found, passage_rank, ranked_sources
from eval.schema import load_dataset
from integrations.cli.app import app
from tests.support.paths import CORPUS

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


PASSAGE = "Schools need to decide if they subscribe to the values and guiding principles"
HISTORY = [{"role": "user", "content": "Why is ELP only for one year?"},
           {"role": "assistant", "content": "The commitment is for one year in the first instance [1]."}]


@pytest.fixture
def split_items(tmp_path):
    """The five items, three of them in the test split (one with a passage), plus a dev follow-up."""
    test_ids = {"ealing-qa-05-verbatim", "calc-elp-net-s2-2fe", "decline-croydon-fee"}
    records = []
    for it in load_dataset():
        if it.id in FIVE:
            record = it.model_dump(exclude_defaults=True)
            if it.id in test_ids:
                record["split"] = "test"
            if it.id == "ealing-qa-05-verbatim":
                record["passage"] = PASSAGE
            records.append(record)
    records.append({"id": "follow-up-all-or-nothing", "kind": "qa", "question": "and is it all or nothing?",
                    "history": HISTORY, "reference": "Yes.", "facts": ["values and guiding principles"],
                    "sources": ["ealing-elp-qa-briefings-2017-11.txt"], "origin": "hand-made follow-up"})
    path = tmp_path / "split.yaml"
    path.write_text(yaml.safe_dump({"items": records}), encoding="utf-8")
    load_dataset(path, corpus_dir=CORPUS)  # the passage really is in the source
    return path


def test_split_runs_only_that_split_and_gates_apply_to_it(indexed_env, assistant, split_items):
    result = runner.invoke(app, ["eval", "--dataset", str(split_items), "--split", "test", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    ours = payload["systems"]["assistant"]
    assert payload["split"] == "test" and payload["items"] == 3
    assert {r["id"] for r in ours["items"]} == {"ealing-qa-05-verbatim", "calc-elp-net-s2-2fe", "decline-croydon-fee"}
    assert list(ours["by_split"]) == ["test"] and ours["by_split"]["test"] == ours["overall"]
    qa = next(r for r in ours["items"] if r["id"] == "ealing-qa-05-verbatim")
    final = passage_rank(PASSAGE, [d.page_content for d in assistant.retrieve(qa["question"])])
    assert qa["passage"] == PASSAGE and qa["passage_ranks"], "every passage item gets its rank per stage"
    assert list(qa["passage_ranks"].values())[-1] == final, "the last stage is the final ranking"
    assert qa["scores"]["recall_at_1"] == (1.0 if final == 1 else 0.0)
    assert qa["scores"]["mrr"] == (1 / final if final else 0.0)
    assert set(ours["overall"]["stage_recall_at_5"]) == set(qa["passage_ranks"])

    # The fact item is in dev only: a gate on it cannot be measured on the test split, and fails.
    gated = runner.invoke(app, ["eval", "--dataset", str(split_items), "--split", "test",
                                "--fail-under", "fact.pass_rate=0", "--fail-under", "lead_fact_rate=0"])
    assert gated.exit_code == 1 and "fact.pass_rate could not be measured" in gated.output, gated.output
    assert "lead_fact_rate" not in gated.output.split("Evaluation below threshold")[1]
    ok = runner.invoke(app, ["eval", "--dataset", str(split_items), "--split", "dev", "--fail-under", "fact.pass_rate=0"])
    assert ok.exit_code == 0, ok.output


def test_follow_ups_are_asked_with_their_history(indexed_env, assistant, split_items):
    from assistant.models import Message

    result = runner.invoke(app, ["eval", "--dataset", str(split_items), "--split", "dev", "--json"])
    assert result.exit_code == 0, result.output
    ours = json.loads(result.stdout)["systems"]["assistant"]
    assert list(ours["by_split"]) == ["dev"] and ours["overall"]["items"] == 3
    got = next(r for r in ours["items"] if r["id"] == "follow-up-all-or-nothing")
    history = [Message(**m) for m in HISTORY]
    answer = assistant.ask("and is it all or nothing?", history=history)
    assert got["answer"] == answer.answer and got["history"] == HISTORY
    standalone = assistant.standalone_question("and is it all or nothing?", history)
    assert standalone != "and is it all or nothing?", "a short follow-up is retrieved with the previous question"
    assert got["retrieved_sources"] == ranked_sources(d.metadata["source"] for d in assistant.retrieve(standalone))


def test_console_shows_dev_test_and_all_and_bad_splits_exit_2(indexed_env, split_items, tmp_path):
    result = runner.invoke(app, ["eval", "--dataset", str(split_items)])
    assert result.exit_code == 0, result.output
    assert re.search(r"metric +┃ +dev +┃ +test +┃ +all", result.stdout), result.stdout
    assert re.search(r"items +│ +3 +│ +3 +│ +6", result.stdout)
    bad = runner.invoke(app, ["eval", "--dataset", str(split_items), "--split", "train"])
    assert bad.exit_code == 2 and "--split train: use dev, test or all" in bad.output
    dev_only = tmp_path / "dev-only.yaml"
    records = [i.model_copy(update={"split": "dev"}).model_dump(exclude_defaults=True) for i in load_dataset() if i.id in FIVE]
    assert all("split" not in r for r in records), "dev is the default split"
    dev_only.write_text(yaml.safe_dump({"items": records}), encoding="utf-8")
    none = runner.invoke(app, ["eval", "--dataset", str(dev_only), "--split", "test"])
    assert none.exit_code == 2 and "no items in split test" in none.output
