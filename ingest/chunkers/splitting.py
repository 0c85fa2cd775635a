"""Sentence-safe splitting of long text, with a title line repeated on every piece."""
from __future__ import annotations

from functools import lru_cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

TARGET_CHARS = 1200  # whole chunk, title line included
MIN_BODY_CHARS = 400
# Paragraphs first, then lines, then sentence ends. " " and "" are a last resort only for a single
# "sentence" longer than the target (e.g. a run of text with no punctuation), which prose never has.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", " ", ""]


@lru_cache(maxsize=64)
def _splitter(size: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",
        chunk_size=size,
        chunk_overlap=0,
        strip_whitespace=True,
    )


def split_text(body: str, budget: int) -> list[str]:
    """Split `body` into pieces of at most `budget` chars at paragraph/line/sentence boundaries."""
    body = body.strip()
    if not body:
        return []
    if len(body) <= budget:
        return [body]
    return [piece for piece in _splitter(max(budget, MIN_BODY_CHARS)).split_text(body) if piece.strip()]


def split_with_title(title: str, body: str, target: int = TARGET_CHARS, prefix: str = "") -> list[str]:
    """Pieces of `body`, each starting with `title` (if any) then `prefix`, each about <= `target` chars."""
    head = f"{title}\n" if title else ""
    pieces = split_text(body, target - len(head) - len(prefix))
    return [f"{head}{prefix}{piece}" for piece in pieces]
