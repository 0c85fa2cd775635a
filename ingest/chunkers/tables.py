"""Tab-separated structures: Q&A sheets, exported HTML offer tables and plain tables.

Tables stay whole (header rows kept) unless long; a long table is cut between rows and every piece
repeats the header so each row stays readable with its column names.
"""
from __future__ import annotations

from dataclasses import dataclass

from ingest.chunkers.splitting import split_with_title
from ingest.html_text import first_paragraph, has_html, html_to_text

TABLE_SPLIT_CHARS = 1500  # a table up to this size stays in one chunk
TABLE_PIECE_CHARS = 500  # pieces of a split table: a row or a few short rows, so each row is easy to find
_QUESTION_HEADERS = {"question", "questions", "q", "query", "queries"}


@dataclass(frozen=True)
class QAPair:
    question: str
    answer: str


def cells_of(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("\t")]


def qa_sheet_pairs(lines: list[str]) -> list[QAPair] | None:
    """Pairs from a two-column "Question<TAB>Answer" sheet, or None if the lines are not one.

    A row whose first column is empty continues the previous answer. A sheet is recognised by a
    "Question" header or by most first columns ending in '?'; a row whose first column is a statement
    is still a row of the sheet.
    """
    rows = [cells_of(line) for line in lines]
    if any(len([c for c in row[1:] if c]) > 1 for row in rows):
        return None  # more than two columns: a real table
    header = rows[0][0].lower().rstrip(":") in _QUESTION_HEADERS
    firsts = [row[0] for row in rows[1 if header else 0 :] if row[0]]
    if not firsts:
        return None
    if not header and sum(f.endswith("?") for f in firsts) * 2 < len(firsts):
        return None
    pairs: list[tuple[str, list[str]]] = []
    for row in rows[1 if header else 0 :]:
        first, rest = row[0], " ".join(c for c in row[1:] if c)
        if first:
            pairs.append((first, [rest] if rest else []))
        elif pairs and rest:
            pairs[-1][1].append(rest)
    return [QAPair(_clean(q), "\n".join(_clean(a) for a in answer)) for q, answer in pairs]


def _clean(text: str) -> str:
    return html_to_text(text) if has_html(text) or any(b in text for b in "■•") else text.strip()


def is_html_row_table(lines: list[str]) -> bool:
    """Exported offer tables: every row starts with an HTML cell whose first <p> is the row title."""
    return all(cells_of(line)[0].startswith("<") for line in lines) and any(first_paragraph(line) for line in lines)


def html_row_chunks(line: str) -> tuple[str, list[str]]:
    """(row title, chunk texts) for one HTML table row: the title line then the cleaned cells."""
    title = first_paragraph(line)
    cells = [html_to_text(cell) for cell in line.split("\t")]
    body = "\n".join(cell for cell in cells if cell)
    if title and body.startswith(title):
        body = body[len(title) :].lstrip("\n")
    return title, split_with_title(title, body, target=TABLE_SPLIT_CHARS) if body else ([title] if title else [])


def _drop_empty_columns(rows: list[list[str]]) -> list[list[str]]:
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    keep = [j for j in range(width) if any(r[j] for r in rows)]
    return [[r[j] for j in keep] for r in rows]


def _header_count(rows: list[list[str]]) -> int:
    """Header = the first row, plus following rows while the first column is empty (multi-row headers
    such as 'Primary school roll' / '1 FE..4 FE' / '210..840'); at most 3."""
    count = 1
    if not rows[0][0]:
        while count < min(3, len(rows) - 1) and not rows[count][0]:
            count += 1
    return count if count < len(rows) else 1


def _render_row(row: list[str]) -> str:
    while row and not row[-1]:
        row = row[:-1]
    return " | ".join(row).strip()


def _render_record(row: list[str], header: list[str]) -> str:
    """A row whose cells hold lists: one labelled block per cell so each item keeps its column name."""
    label = row[0]
    parts = [label] if label and not any(row[1:]) else []
    for j, cell in enumerate(row[1:], start=1):
        if not cell:
            continue
        column = header[j] if j < len(header) else ""
        name = " — ".join(x for x in (label, column) if x)
        parts.append(f"{name}:\n{cell}" if name else cell)
    return "\n".join(parts)


def table_chunks(lines: list[str], title: str, context: list[str]) -> list[tuple[str, str]]:
    """(text, row labels) pieces for a plain tab table: the whole table if it fits (labels ""), else
    row groups that each repeat the title and header, labelled with the rows they hold."""
    rows = [[_clean(c) for c in cells_of(line)] for line in lines]
    rows = _drop_empty_columns(rows)
    if not rows or not rows[0]:
        return []
    n_head = _header_count(rows)
    head_rows, body_rows = rows[:n_head], rows[n_head:]
    # Continuation rows (empty first cell) belong to the group named above them.
    for prev, row in zip(body_rows, body_rows[1:]):
        if not row[0] and prev[0] and any(row[1:]):
            row[0] = prev[0]
    multiline = any("\n" in cell for row in body_rows for cell in row)
    header_text = "\n".join(_render_row(r) for r in head_rows)
    rendered = [(_render_record(r, head_rows[-1]) if multiline else _render_row(r), r[0]) for r in body_rows]
    rendered = [(text, label) for text, label in rendered if text]
    lead = "\n".join(x for x in [title, *context, header_text] if x)
    whole = "\n".join([lead, *(text for text, _ in rendered)]).strip()
    if len(whole) <= TABLE_SPLIT_CHARS:
        return [(whole, "")] if whole else []
    groups: list[list[tuple[str, str]]] = [[]]
    for row in rendered:
        candidate = "\n".join([lead, *(t for t, _ in groups[-1]), row[0]])
        if groups[-1] and len(candidate) > TABLE_PIECE_CHARS:
            groups.append([])
        groups[-1].append(row)
    out: list[tuple[str, str]] = []
    for group in groups:
        labels = ", ".join(dict.fromkeys(label for _, label in group if label))
        piece = "\n".join([lead, *(t for t, _ in group)])
        # A single row longer than the limit is split at sentence boundaries, header still on top.
        texts = [piece] if len(piece) <= TABLE_SPLIT_CHARS else split_with_title(lead, piece[len(lead) :])
        out.extend((text, labels) for text in texts)
    return out
