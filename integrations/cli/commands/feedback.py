"""`partnership feedback list|export`: what people rated, and 👎 answers as draft evaluation items.

The loop: a 👎 in Slack or on the web page is stored with what reproduces the answer; `export` writes those
rows as draft items for `eval/dataset.yaml` (question, history, the comment as `reference`, `split: dev`);
a person adds the facts and the source, and the next `partnership eval` measures the fix."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Optional

import typer
import yaml
from rich.table import Table

from integrations.cli.common import console, fail, load_settings, print_json, user_errors

feedback_app = typer.Typer(help="What people rated, and 👎 answers as draft evaluation items.",
                           no_args_is_help=True)

DRAFT_HEADER = (
    "# Draft evaluation items from 👎 feedback (`partnership feedback export`). For each one: choose `kind`\n"
    "# (qa, fact, calc or decline), add `facts` a correct answer must contain and the `sources` that hold\n"
    "# them (decline items have neither), check `reference`, then paste it under `items:` in eval/dataset.yaml.\n"
    "# `partnership eval` refuses an item until it is complete.\n"
)


def parse_since(value: Optional[str]) -> datetime | None:
    """`--since`: a date (2026-12-01, midnight UTC) or an ISO time; a clear error for anything else."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        try:
            when = datetime.combine(date.fromisoformat(value), datetime.min.time())
        except ValueError:
            raise fail(f"--since must be a date like 2026-12-01 or an ISO time, not {value!r}.") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def draft_item(row: dict) -> dict:
    """One stored 👎 row as a draft eval item: what was asked, with its history, and what was said."""
    origin = f"{row['source']} feedback #{row['id']}, {row['created_at']}"
    if row.get("filters"):
        origin += f", asked with filters {row['filters']}"
    item: dict = {
        "id": f"feedback-{row['id']}",
        "kind": "qa",
        "question": row["question"],
        "reference": row.get("comment") or "(what the right answer is: fill in)",
        "facts": [],
        "sources": [row["expected_source"]] if row.get("expected_source") else [],
        "origin": origin,
        "split": "dev",
    }
    if row.get("history"):
        item["history"] = [{"role": t.get("role"), "content": t.get("content")} for t in row["history"]
                           if isinstance(t, dict)]
    return item


def export_yaml(rows: list[dict]) -> str:
    items = [draft_item(row) for row in rows]
    body = yaml.safe_dump(items, sort_keys=False, allow_unicode=True, width=110) if items else "[]\n"
    return DRAFT_HEADER + body


def _rows(rating: Optional[str], since: Optional[str]) -> list[dict]:
    from assistant.factory import build_feedback

    when = parse_since(since)
    with user_errors():
        return build_feedback(load_settings()).select(rating=rating, since=when)


@feedback_app.command("list")
def list_feedback(
    rating: Optional[str] = typer.Option(None, "--rating", metavar="up|down", help="Only this rating."),
    since: Optional[str] = typer.Option(None, "--since", metavar="DATE", help="Only rows from this date or time on."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON (every stored field)."),
) -> None:
    """List stored feedback, oldest first."""
    rows = _rows(rating, since)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("No feedback stored that matches.")
        return
    table = Table("id", "when", "from", "rating", "question", "comment", "right answer in")
    for row in rows:
        table.add_row(str(row["id"]), row["created_at"], row["source"], "👍" if row["rating"] == "up" else "👎",
                      row["question"], row.get("comment") or "", row.get("expected_source") or "")
    console.print(table)


@feedback_app.command("export")
def export_feedback(
    fmt: str = typer.Option("yaml", "--format", metavar="yaml", help="Output format (yaml)."),
    since: Optional[str] = typer.Option(None, "--since", metavar="DATE", help="Only rows from this date or time on."),
) -> None:
    """Write 👎 feedback as draft items for eval/dataset.yaml (to stdout)."""
    if fmt != "yaml":
        raise fail(f"--format must be yaml, not {fmt!r}.")
    typer.echo(export_yaml(_rows("down", since)), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(feedback_app, name="feedback")
