"""Pages -> LangChain Documents, one per chunk, following the document's own structure.

Q&A pairs (Q:/A: blocks, "Question<TAB>Answer" sheets, FAQ questions) become one chunk each; tables stay
whole with their header (long ones are cut between rows, header repeated); prose is cut into sections
at headings and then, if long, at paragraph or sentence boundaries with the section title repeated on
every piece. In multi-partnership booklets each profile's chunks carry that partnership's name.

Metadata values are Chroma-compatible scalars: "" for no section/question, -1 for no page.
"""
from __future__ import annotations

from langchain_core.documents import Document

from ingest.chunkers.blocks import Block, parse_blocks, reflow_wrapped_lines
from ingest.chunkers.sections import SectionBuilder, Unit
from ingest.loaders import Page
from ingest.metadata import DocMeta

METADATA_KEYS = (
    "source", "title", "partnership", "partnerships", "kind", "section",
    "page", "chunk_index", "question", "chunk_type",
)
CHUNK_TYPES = {"qa", "table", "section", "slide"}


def chunk_pages(pages: list[Page], meta: DocMeta) -> list[Document]:
    """Chunk a loaded document. Empty or whitespace-only chunks are never returned."""
    blocks: list[Block] = []
    for page in pages:
        # Pages with a number come from PDFs, whose lines are visual lines: rejoin wrapped paragraphs.
        text = reflow_wrapped_lines(page.text) if page.number is not None else page.text
        blocks.extend(parse_blocks(text, page.number))
    units = [u for u in SectionBuilder(blocks, meta).build() if u.text.strip()]
    return [_document(unit, index, meta) for index, unit in enumerate(units)]


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
