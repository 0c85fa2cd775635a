"""Block Kit layout of answers, notices and the feedback/share buttons.

Everything that comes from a document (answer text, titles, sections, calculator labels) and everything
a user typed is passed through `escape()` before it reaches Slack: Slack only turns `<!channel>`,
`<@U123>` or `<https://...|link>` into pings and links when it sees raw angle brackets, so escaping
`&`, `<` and `>` keeps planted mentions inert. Nothing here sets `link_names`, so a plain "@channel"
stays text as well.
"""
from __future__ import annotations

import json
import re

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextActionsBlock,
    ContextBlock,
    FeedbackButtonObject,
    FeedbackButtonsElement,
    MarkdownTextObject,
    SectionBlock,
)

from assistant.models import Answer, Calculation, Citation

SECTION_CHARS = 3000  # Slack's limit for one section's text
CONTEXT_CHARS = 3000
FALLBACK_CHARS = 3500  # notification/fallback text; Slack truncates long `text` anyway
BUTTON_VALUE_CHARS = 2000
QUESTION_IN_VALUE = 900  # leaves room for JSON escaping within BUTTON_VALUE_CHARS
LABEL_CHARS = 44  # working-table labels: keeps rows narrow enough for a Slack code block

# Slack's native 👍/👎 control (feedback_buttons in a context_actions block); the clicked button's value
# carries the rating. FEEDBACK_UP/DOWN are the buttons of answers posted before it, still answered.
FEEDBACK = "feedback"
FEEDBACK_UP = "feedback_up"
FEEDBACK_DOWN = "feedback_down"
SHARE = "share_answer"
FEEDBACK_BLOCK = "feedback"

HELP_TEXT = (
    "*Partnership Assistant* answers questions about the school partnership documents, with sources.\n"
    "• Mention me in a channel: `@Partnership Assistant how is the Ealing subscription calculated?` "
    "— I answer in the thread, and answer follow-ups in that thread without a mention.\n"
    "• Message me directly: every message gets an answer.\n"
    "• `/partnership ask <question>` — a private answer you can share in the channel; "
    "`/partnership ask --partnership ealing <question>` uses only that partnership's documents.\n"
    "• `/partnership calc <description>` — the funding calculator, e.g. "
    "`/partnership calc 420-pupil maintained primary in Ealing, scenario 2`.\n"
    "• `/partnership help` — this message.\n"
    "Use 👍 / 👎 under an answer to tell us whether it helped."
)


def escape(text: str) -> str:
    """Slack's required escaping for text it should show literally (`&` first, then `<`, `>`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """The inverse of `escape`, for reading back messages Slack returns (thread history)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mention(user_id: str | None) -> str:
    """`<@U123>` for a real Slack user id; anything else is shown as escaped text, never a ping."""
    if user_id and re.fullmatch(r"[UW][A-Z0-9]{2,30}", user_id):
        return f"<@{user_id}>"
    return escape(user_id or "someone")


def _mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: Slack must not auto-link bare URLs or channel names found in document text.
    return MarkdownTextObject(text=text, verbatim=True)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def answer_mrkdwn(text: str) -> str:
    """Answer text as Slack mrkdwn: escaped, with Markdown **bold** turned into Slack's *bold*."""
    return re.sub(r"\*\*(.+?)\*\*", r"*\1*", escape(text))


def source_line(citation: Citation) -> str:
    """`[n] Title — section (p. X)`, unescaped (callers escape)."""
    line = f"[{citation.n}] {citation.title}"
    if citation.section:
        line += f" — {citation.section}"
    if citation.page is not None:
        line += f" (p. {citation.page})"
    return line


def _chunks(text: str, limit: int) -> list[str]:
    """Split at paragraph or line breaks so each piece fits one section block."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single huge line: hard split
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current:
        pieces.append(current)
    return [p for p in pieces if p.strip()] or [" "]


def _short_label(label: str) -> str:
    """A table label: explanations in parentheses go (the formula shows the rates), long ones are clipped."""
    short = re.sub(r"\s*\([^()]*\)", "", label).strip() or label
    return _clip(short, LABEL_CHARS)


def working_rows(calculation: Calculation) -> list[tuple[str, str, str]]:
    """The calculator's working as (item, working, amount) rows; a result without working lines shows its
    rounded totals instead."""
    rows = [(_short_label(line.label), "" if line.formula == line.display else line.formula, line.display or "")
            for line in calculation.working]
    return rows or [(name.replace("_", " "), "", shown) for name, shown in calculation.display.items()]


def _table(rows: list[tuple[str, str, str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        f"{item.ljust(widths[0])}  {working.ljust(widths[1])}  {amount.rjust(widths[2])}".rstrip()
        for item, working, amount in rows
    )


def working_block(calculation: Calculation) -> dict | None:
    rows = working_rows(calculation)
    if not rows:
        return None
    table = _clip(escape(_table(rows)), SECTION_CHARS - 20)
    return SectionBlock(text=_mrkdwn(f"*Working*\n```{table}```")).to_dict()


def calculation_blocks(calculation: Calculation, citations: list[Citation]) -> list[dict]:
    """Headline, the working as a table, the notes, and the words each rate is quoted from — all from the
    calculation itself, not from the answer text."""
    blocks = [SectionBlock(text=_mrkdwn(_clip(escape(calculation.headline), SECTION_CHARS))).to_dict()]
    if table := working_block(calculation):
        blocks.append(table)
    by_number = {c.n: c for c in citations}
    sections = []
    if calculation.warnings:
        sections.append("*Notes*\n" + "\n".join(f"• {escape(w)}" for w in calculation.warnings))
    rates = [by_number[n] for n in calculation.citations if n in by_number]
    if rates:
        sections.append("*Where the rates come from*\n" + "\n".join(
            f"[{c.n}] {escape(c.title)}: “{escape(c.snippet)}”" for c in rates))
    for section in sections:
        blocks += [SectionBlock(text=_mrkdwn(piece)).to_dict() for piece in _chunks(section, SECTION_CHARS)[:5]]
    return blocks


def _button_value(ref: str, question: str, rating: str | None = None) -> str:
    data = {"ref": ref, "q": question[:QUESTION_IN_VALUE], **({"r": rating} if rating else {})}
    return json.dumps(data, ensure_ascii=False)[:BUTTON_VALUE_CHARS]


def parse_rating(value: object) -> str | None:
    """"up"/"down" from a feedback button value written by `_button_value`; None for anything else."""
    try:
        data = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None
    rating = data.get("r") if isinstance(data, dict) else None
    return rating if rating in ("up", "down") else None


def parse_button_value(value: object) -> tuple[str | None, str | None]:
    """(ref, question) from a button value written by `_button_value`; None for anything else in it."""
    try:
        data = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    ref, question = data.get("ref"), data.get("q")
    return (ref if isinstance(ref, str) else None), (question if isinstance(question, str) else None)


def feedback_actions(ref: str, question: str) -> dict:
    return ContextActionsBlock(
        block_id=FEEDBACK_BLOCK,
        elements=[FeedbackButtonsElement(
            action_id=FEEDBACK,
            positive_button=FeedbackButtonObject(text="Helpful", accessibility_label="This answer was helpful",
                                                 value=_button_value(ref, question, "up")),
            negative_button=FeedbackButtonObject(text="Not helpful", accessibility_label="This answer was not helpful",
                                                 value=_button_value(ref, question, "down")),
        )],
    ).to_dict()


def share_actions(ref: str, question: str) -> dict:
    value = _button_value(ref, question)
    return ActionsBlock(
        block_id="share",
        elements=[ButtonElement(text="Share in channel", action_id=SHARE, value=value, style="primary")],
    ).to_dict()


def answer_blocks(answer: Answer, *, ref: str, question: str, share: bool = False, asked_by: str | None = None) -> list[dict]:
    """The answer, its sources, the calculator working and the 👍/👎 buttons (plus Share when private)."""
    blocks: list[dict] = []
    if asked_by:
        blocks.append(ContextBlock(elements=[_mrkdwn(
            _clip(f"{mention(asked_by)} asked: {escape(question)}", CONTEXT_CHARS))]).to_dict())
    if answer.calculation is not None:
        blocks.extend(calculation_blocks(answer.calculation, answer.citations))
    else:
        body = answer_mrkdwn(answer.answer)
        if not answer.grounded:
            body = f":information_source: {body}"
        for piece in _chunks(body, SECTION_CHARS)[:30]:
            blocks.append(SectionBlock(text=_mrkdwn(piece)).to_dict())
    if answer.citations:
        heading = "Sources" if answer.grounded else "Closest sources"
        lines = "\n".join(escape(source_line(c)) for c in answer.citations)
        blocks.append(ContextBlock(elements=[_mrkdwn(_clip(f"*{heading}*\n{lines}", CONTEXT_CHARS))]).to_dict())
    if share:
        blocks.append(share_actions(ref, question))
    blocks.append(feedback_actions(ref, question))
    return blocks


def answer_text(answer: Answer) -> str:
    """Plain-text fallback (notifications, screen readers, clients without blocks)."""
    text = escape(answer.answer)
    if answer.citations:
        text += "\nSources: " + "; ".join(escape(source_line(c)) for c in answer.citations)
    return _clip(text, FALLBACK_CHARS)


def notice_blocks(text: str) -> list[dict]:
    """A short message of ours (help, errors, limits); `text` is already mrkdwn-safe."""
    return [SectionBlock(text=_mrkdwn(_clip(text, SECTION_CHARS))).to_dict()]


def thank_you_blocks(blocks: list[dict], user_id: str, rating: str) -> list[dict]:
    """`blocks` with the 👍/👎 buttons replaced by a thank-you line (a Share button stays)."""
    thumb = "👍" if rating == "up" else "👎"
    kept = [b for b in blocks if b.get("block_id") != FEEDBACK_BLOCK]
    thanks = ContextBlock(elements=[_mrkdwn(f"{thumb} Thanks for the feedback, {mention(user_id)}!")]).to_dict()
    return kept + [thanks]
