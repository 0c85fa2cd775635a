"""The parts of a chunk that can answer a question on their own: a Q&A row's question, a slide's or
section's title, and each quotable sentence. Retrieval scores a chunk by its best part; answering quotes
the parts. Both embed a part with the same text, so one vector serves both."""
from __future__ import annotations

import re

from langchain_core.documents import Document

from assistant.text import sentences

NUMBERED = re.compile(r"^\s*\d{1,2}[.)]\s+\S")  # "5. Options for ..."


def qa_parts(doc: Document) -> tuple[str, str] | None:
    """(question, answer) of a Q&A chunk, else None."""
    question = doc.metadata.get("question") or ""
    if not question:
        return None
    text = doc.page_content
    answer = text.split("\nA:", 1)[1] if "\nA:" in text else text.split(question, 1)[-1]
    return question, answer.strip()


def is_heading(unit: str) -> bool:
    words = unit.split()
    return unit.isupper() or (len(words) < 6 and unit[-1:] not in ".!?%")


def sentence_units(doc: Document) -> list[tuple[int, str]]:
    """The sentences of a chunk an answer may quote, with their position (headings and questions are not)."""
    section = doc.metadata.get("section", "")
    # An agenda's or contents list's items point at answers elsewhere; they never are one.
    text = doc.page_content
    if doc.metadata.get("chunk_type") == "contents":
        text = "\n".join(line for line in text.splitlines() if not NUMBERED.match(line))
    return [(pos, unit) for pos, unit in enumerate(sentences(text))
            if unit not in section and len(unit) > 20 and not is_heading(unit) and unit[-1] not in ":?"]


def embedding_text(unit: str, section: str) -> str:
    # Sentences are embedded with their section title: "Option 1 – …" means more under its slide title.
    return f"{section}: {unit}" if section else unit


def representations(doc: Document) -> list[str]:
    """Texts that stand for `doc` in the part-level search: its title (a Q&A row's question) and each
    quotable sentence under its title."""
    section = doc.metadata.get("section", "") or ""
    parts = [section] if section.strip() else []
    parts += [embedding_text(unit, section) for _, unit in sentence_units(doc)]
    return parts
