"""Pages -> LangChain Documents, one per chunk, following the document's own structure.

Q&A pairs (Q:/A: blocks, "Question<TAB>Answer" sheets, FAQ questions) become one chunk each; tables stay
whole with their header (long ones are cut between rows, header repeated); prose is cut into sections
at headings and then, if long, at paragraph or sentence boundaries with the section title repeated on
every piece. In multi-partnership booklets each profile's chunks carry that partnership's name. Slides
(pages the loader marks as slides) are one chunk each, whatever their text looks like.

Metadata values are Chroma-compatible scalars: "" for no section/question, -1 for no page.
"""
from __future__ import annotations

import re
from dataclasses import replace

from langchain_core.documents import Document

from ingest.chunkers.blocks import Block, parse_blocks, reflow_wrapped_lines
from ingest.chunkers.sections import SectionBuilder, Unit
from ingest.chunkers.splitting import split_with_title
from ingest.loaders import Page
from ingest.metadata import DocMeta

METADATA_KEYS = (
    "source", "title", "partnership", "partnerships", "kind", "section",
    "page", "chunk_index", "question", "chunk_type",
)
CHUNK_TYPES = {"qa", "table", "section", "slide", "contents"}
CONTENTS_TITLE = re.compile(r"\b(?:agenda|contents|outline)\b", re.I)
NUMBERED = re.compile(r"^\s*\d{1,2}[.)]\s+\S")
SLIDE_MAX_CHARS = 4000  # only a slide longer than this (a pasted essay in the notes) is cut, title on every piece
SLIDE_TITLE_MAX_CHARS = 200  # the longest slide title the heading rules accept; a longer one is body text


def chunk_pages(pages: list[Page], meta: DocMeta) -> list[Document]:
    """Chunk a loaded document. Empty or whitespace-only chunks are never returned."""
    units: list[Unit] = []
    blocks: list[Block] = []
    for page in pages:
        if page.slide:
            units += _slide_units(page, meta)
            continue
        # Pages with a number come from PDFs, whose lines are visual lines: rejoin wrapped paragraphs.
        text = reflow_wrapped_lines(page.text) if page.number is not None else page.text
        blocks.extend(parse_blocks(text, page.number))
    units += SectionBuilder(blocks, meta).build()
    units = [as_contents(u) for u in units if u.text.strip()]
    return [_document(unit, index, meta) for index, unit in enumerate(units)]


def as_contents(unit: Unit) -> Unit:
    """An agenda or table of contents (so titled, and mostly a numbered list of short unpunctuated items)
    points at the document's answers rather than giving them: typed "contents", it is found by its title
    but never quoted, so it cannot win every question about the document."""
    lines = [line.strip() for line in unit.text.splitlines() if line.strip()]
    items = [line for line in lines if NUMBERED.match(line) and len(line.split()) <= 15 and not line.endswith((".", "!", "?"))]
    if CONTENTS_TITLE.search(unit.section or "") and len(items) >= 3 and 2 * len(items) >= len(lines) - 1:
        return replace(unit, chunk_type="contents")
    return unit


def _slide_units(page: Page, meta: DocMeta) -> list[Unit]:
    """One chunk per slide: title (its section), body and notes."""
    title, body = page.title.strip(), page.text.strip()
    if len(title) > SLIDE_TITLE_MAX_CHARS:
        title, body = "", f"{title}\n{body}".strip()
    pieces = split_with_title(title, body, SLIDE_MAX_CHARS) if body else [title]
    partnership = meta.partnerships[0] if meta.partnerships else ""
    return [Unit(piece, title, "slide", page.number, partnership) for piece in pieces]


def _document(unit: Unit, index: int, meta: DocMeta) -> Document:
    return Document(
        page_content=unit.text,
        metadata={
            "source": meta.source,
            "title": meta.title,
            "partnership": unit.partnership,
            "partnerships": "; ".join(meta.partnerships),
            "kind": meta.kind,
            "section": unit.section or "",
            "page": unit.page if unit.page is not None else -1,
            "chunk_index": index,
            "question": unit.question or "",
            "chunk_type": unit.chunk_type,
        },
    )
