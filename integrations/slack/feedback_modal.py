"""The "What was wrong?" modal a 👎 opens: free text, and optionally the document the right answer is in.
Its submission is attached to the stored rating (`FeedbackStore.add_detail`), so `partnership feedback export`
can turn it into a draft evaluation item."""
from __future__ import annotations

import json

from slack_sdk.models.blocks import InputBlock, Option, PlainTextInputElement, StaticSelectElement
from slack_sdk.models.views import View

CALLBACK = "feedback_detail"
COMMENT, EXPECTED = "comment", "expected_source"
COMMENT_CHARS = 2000
OPTION_CHARS = 75  # Slack's limit on an option's text
MAX_OPTIONS = 100


def modal(row_id: int, documents: list[dict]) -> dict:
    """The modal for stored feedback row `row_id`; `documents` (source, title) fill "the right answer is in…"."""
    blocks = [InputBlock(
        block_id=COMMENT, label="What was wrong?",
        element=PlainTextInputElement(action_id=COMMENT, multiline=True, max_length=COMMENT_CHARS,
                                      placeholder="e.g. it quoted the primary rate; I asked about secondaries"),
    )]
    options = [Option(value=d["source"], text=(d.get("title") or d["source"])[:OPTION_CHARS])
               for d in documents[:MAX_OPTIONS] if len(d.get("source", "")) <= 150]
    if options:
        blocks.append(InputBlock(
            block_id=EXPECTED, label="The right answer is in…", optional=True,
            element=StaticSelectElement(action_id=EXPECTED, placeholder="Choose a document", options=options),
        ))
    return View(type="modal", callback_id=CALLBACK, title="What was wrong?", submit="Send", close="Skip",
                private_metadata=json.dumps({"row": row_id}), blocks=blocks).to_dict()


def _dig(data: object, *keys: str) -> object:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def submitted(view: object) -> tuple[int | None, str | None, str | None]:
    """(feedback row id, comment, expected source) from a view_submission's view; None for any part that is
    missing or not what the modal sends (a forged submission changes nothing)."""
    try:
        row = _dig(json.loads(_dig(view, "private_metadata") or "{}"), "row")
    except (TypeError, ValueError):
        row = None
    values = _dig(view, "state", "values")
    comment = _dig(values, COMMENT, COMMENT, "value")
    expected = _dig(values, EXPECTED, EXPECTED, "selected_option", "value")
    return (row if isinstance(row, int) and not isinstance(row, bool) else None,
            comment.strip()[:COMMENT_CHARS] if isinstance(comment, str) and comment.strip() else None,
            expected if isinstance(expected, str) and expected else None)
