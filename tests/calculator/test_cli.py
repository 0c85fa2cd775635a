"""`partnership calc` through the real typer app: working and sources, --json, --list, --derive, and
every bad input → exit 2 with the message, never a traceback."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from integrations.cli import common
from integrations.cli.app import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    # Rich wraps at 80 columns when not on a terminal; widen so assertions see whole lines.
    monkeypatch.setattr(common.console, "width", 250)
    monkeypatch.setattr(common.err_console, "width", 250)


def calc(*args: str):
    return runner.invoke(app, ["calc", *args])


def test_human_output_has_figure_working_and_sources():
    result = calc("ealing", "--phase", "primary", "--pupils", "420", "--scenario", "2", "--maintained")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.splitlines()[0].startswith("A 420-pupil maintained primary") and "£4,467" in out.splitlines()[0]
    for text in ("£16 × 420 = £6,720", "£13.76 × 420 = £5,779.20", "£3.49 × 420 = £1,465.80",
                 "£4,000 + £6.11 × 420 = £6,566.20", "£12,499.20 − £1,465.80 − £6,566.20 = £4,467.20",
                 "Sources", "ealing-elp-prospectus-2018-19.txt", "Primary £4k per school and £6.11 per pupil"):
        assert text in out


def test_json_fields_for_an_ealing_primary():
    result = calc("ELP", "--phase", "primary", "--fe", "2", "--scenario", "1", "--academy", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["subscription"] == 5411.2 and data["de_delegation"] == 0
    assert data["mfg_funding"] == 6720 and data["council_share"] == 5779.2
    assert data["total_new_funding"] == 12499.2 and data["net_position"] == 7088  # 12,499.20 − 0 − 5,411.20
    assert data["inputs"]["maintained"] is False and data["inputs"]["pupils"] == 420
    assert data["working"] and data["citations"] and data["warnings"]


@pytest.mark.parametrize("args,field,value", [
    (["haringey", "--pupils", "500"], "subscription", 9500),
    (["safe", "--pupils", "600"], "subscription", 534),
    (["harrow", "--phase", "secondary"], "subscription", 4200),
    (["camden"], "fee_max", 13000),
    (["hillingdon", "--members", "80"], "fee", 2741.25),
    (["hillingdon"], "total", 219300),
])
def test_json_for_other_partnerships(args, field, value):
    result = calc(*args, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data[field] == value and data["working"] and data["citations"]


def test_list():
    result = calc("--list", "--json")
    assert result.exit_code == 0
    assert {p["key"] for p in json.loads(result.stdout)} == {"ealing", "haringey", "safe", "harrow", "camden",
                                                            "hillingdon"}
    human = calc("--list")
    assert "Ealing Learning Partnership" in human.stdout and "Camden Learning" in human.stdout


def test_derive():
    result = calc("ealing", "--derive")
    assert result.exit_code == 0, result.output
    assert "£571,000 ÷ 41,500" in result.stdout and "£91,000 ÷ 27,100" in result.stdout
    assert "£6.11" in result.stdout and "own rounding differs" in result.stdout
    what_if = json.loads(calc("ealing", "--derive", "--schools", "55", "--pupils", "24000", "--json").stdout)
    assert what_if["per_pupil_rate"] == 4.625


def test_help_documents_the_options():
    result = runner.invoke(app, ["calc", "--help"])
    assert result.exit_code == 0
    for option in ("--phase", "--pupils", "--fe", "--scenario", "--maintained", "--academy", "--members",
                   "--derive", "--list", "--json"):
        assert option in result.stdout


@pytest.mark.parametrize("args,message", [
    (["ealing", "--phase", "primary", "--pupils", "0", "--scenario", "1"], "at least 1"),
    (["ealing", "--phase", "primary", "--pupils=-5", "--scenario", "1"], "at least 1"),
    (["ealing", "--phase", "primary", "--pupils", "3.5", "--scenario", "1"], "must be a whole number"),
    (["ealing", "--phase", "primary", "--pupils", "lots", "--scenario", "1"], "must be a whole number"),
    (["haringey", "--pupils", "9000"], "1 to 5,000"),
    (["lewisham", "--pupils", "300"], "Unknown partnership 'lewisham'"),
    (["ealing", "--phase", "nursery", "--pupils", "300", "--scenario", "1"], "Accepted phases: primary, secondary, special"),
    (["ealing", "--phase", "primary", "--pupils", "300", "--scenario", "3"], "Unknown scenario 3"),
    (["haringey", "--pupils", "300", "--scenario", "2"], "has no scenarios"),
    (["harrow", "--phase", "primary", "--pupils", "300"], "flat subscription per school"),
    (["ealing", "--phase", "special", "--pupils", "80", "--scenario", "1"], "flat amount per school"),
    (["ealing", "--phase", "primary", "--pupils", "420", "--fe", "2", "--scenario", "1"], "not both"),
    (["ealing", "--phase", "primary", "--scenario", "1"], "How many pupils"),
    (["ealing", "--phase", "secondary"], "How many pupils"),
    (["hillingdon", "--members", "0"], "at least 1"),
    ([], "give a PARTNERSHIP"),
])
def test_bad_input_exits_2_with_the_message(args, message):
    result = calc(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not result.stdout.strip()
