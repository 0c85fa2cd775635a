"""The citation guard: after generation, every [n] in the answer must point at a passage the model was given.

Markers naming no supplied passage are removed (and counted in the log); the rest are renumbered 1..m in
order of first use, so the citations list holds exactly the chunks the answer cites.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from langchain_core.documents import Document

from assistant.answering import CitationBook, cite_closest
from assistant.models import Citation

log = logging.getLogger(__name__)

# "[2]", "[1, 3]", "[1; 3]" with the spaces or tabs before them (so removing one leaves no double space).
MARKER_GROUP = re.compile(r"[ \t]*\[(\d+(?:\s*[,;]\s*\d+)*)\]")


@dataclass
class GuardedAnswer:
    text: str
    citations: list[Citation]
    grounded: bool
    removed: list[int] = field(default_factory=list)
    cited: list[Document] = field(default_factory=list)  # the chunks the answer's markers point at


def guard_citations(text: str, hits: Sequence[Document]) -> GuardedAnswer:
    """Drop invented markers, renumber real ones, and list only cited chunks.

    If nothing valid is cited, the answer keeps its text, lists the top retrieved hits as sources and is
    marked not grounded.
    """
    book = CitationBook()
    removed: list[int] = []
    cited: list[Document] = []

    def renumber(match: re.Match) -> str:
        new: list[int] = []
        for part in re.split(r"\s*[,;]\s*", match.group(1)):
            n = int(part)
            if 1 <= n <= len(hits):
                number = book.cite(hits[n - 1])
                if number not in new:
                    new.append(number)
                if hits[n - 1] not in cited:
                    cited.append(hits[n - 1])
            else:
                removed.append(n)
        if not new:
            return ""
        lead = match.group(0)[: len(match.group(0)) - len(match.group(0).lstrip(" \t"))]
        return lead + "".join(f"[{n}]" for n in new)

    guarded = MARKER_GROUP.sub(renumber, text).strip()
    if removed:
        log.warning("citation guard removed %d invented citation marker(s): %s", len(removed), sorted(set(removed)))
    if book.citations:
        return GuardedAnswer(guarded, book.citations, grounded=True, removed=removed, cited=cited)
    cite_closest(list(hits), book)  # cites nothing: the closest sources, as a decline lists them
    return GuardedAnswer(guarded, book.citations, grounded=False, removed=removed)
