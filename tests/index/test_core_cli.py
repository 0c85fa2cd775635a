"""The `partnership` CLI end to end: ingest, ask, docs and their error cases."""
from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from integrations.cli.app import app
from tests.support.paths import CORPUS

runner = CliRunner()


def test_ask_before_ingest_says_to_run_ingest():
    result = runner.invoke(app, ["ask", "What is ELP?"])
    assert result.exit_code == 2
    assert "partnership ingest" in result.output


def test_empty_and_overlong_questions_exit_2():
    for question, words in (("  ", "empty"), ("q" * 2001, "limit is 2,000")):
        result = runner.invoke(app, ["ask", question])
        assert result.exit_code == 2, result.output
        assert words in result.output
        assert "Traceback" not in result.output


def test_ingest_json_then_ask_json_and_docs(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / "ealing-elp-qa-briefings-2017-11.txt", docs)
    shutil.copy(CORPUS / "metadata.yaml", docs)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    result = runner.invoke(app, ["ingest", str(docs), "--json"])
    assert result.exit_code == 1, "a failed file makes the exit status 1"
    report = json.loads(result.stdout)
    assert set(report) == {"added", "updated", "unchanged", "removed", "failed", "chunks"}
    assert report["added"] == 1 and report["chunks"] > 5
    assert report["failed"][0]["source"] == "broken.pdf" and report["failed"][0]["error"]

    result = runner.invoke(app, ["ask", "Is it all or nothing?", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert set(answer) == {"answer", "citations", "tool_calls", "grounded", "calculation"}
    assert answer["grounded"] is True and answer["tool_calls"] == [] and answer["calculation"] is None
    assert set(answer["citations"][0]) == {"n", "source", "title", "section", "page", "snippet"}
    assert answer["citations"][0]["page"] is None

    result = runner.invoke(app, ["docs", "--json"])
    (doc,) = json.loads(result.stdout)
    assert doc["source"] == "ealing-elp-qa-briefings-2017-11.txt" and doc["chunks"] == report["chunks"]

    (docs / "broken.pdf").unlink()
    again = json.loads(runner.invoke(app, ["ingest", str(docs), "--json"]).stdout)
    assert again["unchanged"] == 1 and again["failed"] == []
