"""`partnership feedback list|export` through the real typer app over a real feedback database: filters,
JSON, draft eval items that become valid once completed, and bad options → exit 2 with the message."""
from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from assistant.feedback import FeedbackStore
from eval.schema import EvalItem
from integrations.cli import common
from integrations.cli.app import app

runner = CliRunner()


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTNERSHIP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(common.console, "width", 250)
    monkeypatch.setattr(common.err_console, "width", 250)
    feedback = FeedbackStore(tmp_path / "data" / "feedback.sqlite3")
    feedback.add(source="http", question="What does Haringey charge?", answer="£19 per pupil [1]", rating="up")
    down = feedback.add(source="slack", question="And for a secondary?", answer="Quoted the wrong row [1]",
                        rating="down", user_id="U1", channel="C1",
                        history=[{"role": "user", "content": "What does Ealing charge a primary?"},
                                 {"role": "assistant", "content": "£4k per school and £6.11 per pupil [1]"}],
                        filters={"partnership": "ealing"}, citations=[{"n": 1, "source": "x.txt"}], backend="extractive")
    feedback.add_detail(down, comment="Secondary is £6k per school and £6.11 per pupil",
                        expected_source="ealing-elp-prospectus-2018-19.txt")
    feedback.add(source="http", question="Write me a poem", answer="Roses [1]", rating="down")
    return feedback


def cli(*args: str):
    return runner.invoke(app, ["feedback", *args])


def test_list_filters_by_rating_and_prints_every_field_as_json(store):
    result = cli("list", "--rating", "down", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["question"] for r in rows] == ["And for a secondary?", "Write me a poem"]
    assert rows[0]["history"][1]["content"].startswith("£4k") and rows[0]["filters"] == {"partnership": "ealing"}
    assert rows[0]["comment"].startswith("Secondary is £6k") and rows[0]["backend"] == "extractive"


def test_list_since_a_date_after_every_row_is_empty_and_the_table_names_the_rows(store):
    assert json.loads(cli("list", "--since", "2999-01-01", "--json").stdout) == []
    table = cli("list")
    assert table.exit_code == 0 and "What does Haringey charge?" in table.stdout and "👎" in table.stdout


def test_export_writes_down_rated_rows_as_draft_items_that_validate_once_completed(store):
    result = cli("export", "--format", "yaml")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Draft evaluation items")
    items = yaml.safe_load(result.stdout)
    assert [i["id"] for i in items] == ["feedback-2", "feedback-3"]  # 👍 rows are not exported
    first = items[0]
    assert first["split"] == "dev" and first["facts"] == []
    assert first["reference"] == "Secondary is £6k per school and £6.11 per pupil"
    assert first["sources"] == ["ealing-elp-prospectus-2018-19.txt"]
    assert first["history"][0] == {"role": "user", "content": "What does Ealing charge a primary?"}
    assert "ealing" in first["origin"]
    with pytest.raises(ValueError):  # a draft is not an eval item until a person adds its facts
        EvalItem(**first)
    EvalItem(**{**first, "facts": ["£6k per school"]})  # completed: valid as it stands


@pytest.mark.parametrize("args, message", [
    (("list", "--rating", "meh"), "rating must be one of up, down"),
    (("list", "--since", "last tuesday"), "--since must be a date"),
    (("export", "--format", "csv"), "--format must be yaml"),
])
def test_bad_options_exit_2_with_the_reason(store, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
