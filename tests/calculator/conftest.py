"""Calculator test helpers: the corpus text, whitespace-normalised, and the published ELP primary table
parsed from the prospectus itself (so expected figures are never retyped)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
PROSPECTUS = "ealing-elp-prospectus-2018-19.txt"
TABLE_TITLE = "Table of funding and subscription rates for primary schools"

# Row labels as printed in the table -> (total key, scenario or None for rows shared by both scenarios).
ROW_KEYS = {
    "School effectiveness £16 per pupil added to MFG": ("mfg_funding", None),
    "Notional share of council funding ELP members £13.76 per pupil": ("council_share", None),
    "Total new funding": ("total_new_funding", None),
    "Maintained Primaries": ("de_delegation", None),
    "Scenario 1: £4,000 per school and £3.36 per pupil": ("subscription", 1),
    "Scenario 2: £4,000 per school and £6.11 per pupil": ("subscription", 2),
    "Net position/Scenario 1": ("net_position", 1),
    "Net position/Scenario 2": ("net_position", 2),
}


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def corpus_text(name: str) -> str:
    return (CORPUS / name).read_text(encoding="utf-8")


def published_primary_table() -> list[tuple[int, str, int | None, str]]:
    """Every cell of the table: (roll, total key, scenario, printed value such as '£4,467')."""
    lines = corpus_text(PROSPECTUS).split(TABLE_TITLE, 1)[1].strip("\n").splitlines()
    rolls: list[int] = []
    cells, section = [], ""
    for line in lines:
        if not line.strip():
            break
        parts = [p.strip() for p in line.split("\t")]
        values = [p for p in parts[1:] if p]
        if values and all(v.isdigit() for v in values):
            rolls = [int(v) for v in values]
            continue
        if parts[0].startswith("Net position"):
            section = "Net position/"
            continue
        money = [v for v in values if v.startswith("£")]
        if len(money) == 4:
            label = parts[0] if parts[0] in ROW_KEYS else section + parts[0]
            key, scenario = ROW_KEYS[label]
            cells += [(roll, key, scenario, value) for roll, value in zip(rolls, money)]
    return cells


@pytest.fixture(scope="session")
def table_cells():
    return published_primary_table()
