"""`partnership ask --partnership` resolves the name the way HTTP and Slack do (assistant/partnerships.py)."""
from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from integrations.cli.app import app

runner = CliRunner()


def flat(output: str) -> str:
    """The output with the console's line wrapping undone."""
    return " ".join(output.split())


@pytest.fixture
def indexed_copy(indexed_settings, tmp_path, monkeypatch):
    """The session index copied to this test's data dir, so the CLI opens its own."""
    target = tmp_path / "index"
    shutil.copytree(indexed_settings.data_dir, target, ignore=shutil.ignore_patterns("*.lock", "feedback.sqlite3*"))
    monkeypatch.setenv("PARTNERSHIP_DATA_DIR", str(target))
    return target


def test_unknown_ambiguous_and_short_partnership_names(indexed_copy):
    unknown = runner.invoke(app, ["ask", "What is the board made up of?", "--partnership", "Narnia"])
    assert unknown.exit_code == 2, unknown.output
    message = flat(unknown.output)
    assert "Unknown partnership 'Narnia'" in message
    assert "Ealing Learning Partnership" in message and "Hillingdon Learning Partnership" in message
    assert "Traceback" not in unknown.output

    ambiguous = runner.invoke(app, ["ask", "What is the board made up of?", "--partnership", "Education Partnership"])
    assert ambiguous.exit_code == 2, ambiguous.output
    assert "is ambiguous" in flat(ambiguous.output) and "Haringey Education Partnership" in flat(ambiguous.output)

    documents = {d["source"]: d for d in json.loads(runner.invoke(app, ["docs", "--json"]).stdout)}
    short = runner.invoke(app, ["ask", "How is the partnership funded?", "--partnership", "ealing", "--json"])
    assert short.exit_code == 0, short.output
    citations = json.loads(short.stdout)["citations"]
    assert citations
    for citation in citations:
        assert "Ealing Learning Partnership" in str(documents[citation["source"]]["partnership"])
