"""The embedded default answerer: extractive and grounded. It never writes a sentence of its own about the
partnerships; every sentence it returns is quoted from a retrieved chunk and carries that chunk's [n].

Two modes: a documented Q&A answer when the best hit is a Q&A chunk whose question matches, otherwise the
most relevant sentences of the top chunks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from langchain_core.documents import Document

from assistant.models import Answer, Citation
from assistant.retrieval import QueryEmbedder
from assistant.text import sentences, tokens

QA_MATCH = 0.62  # question-to-question cosine above which the documented answer is the answer
MAX_SENTENCES = 3
SNIPPET_CHARS = 320


@dataclass
class CitationBook:
    """Numbers chunks in order of first citation; a number is only ever handed out for a real chunk."""

    citations: list[Citation] = field(default_factory=list)
    _by_id: dict[str, int] = field(default_factory=dict)

    def cite(self, doc: Document, snippet: str | None = None) -> int:
        key = doc.id or doc.page_content
        if key not in self._by_id:
            meta = doc.metadata
            self._by_id[key] = len(self.citations) + 1
            self.citations.append(
                Citation(
                    n=self._by_id[key],
                    source=meta.get("source", ""),
                    title=meta.get("title") or meta.get("source", ""),
                    section=meta.get("section") or None,
                    page=meta.get("page") if isinstance(meta.get("page"), int) and meta.get("page", -1) >= 0 else None,
                    snippet=_clip(snippet or doc.page_content),
                )
            )
        return self._by_id[key]


def _clip(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"


def qa_parts(doc: Document) -> tuple[str, str] | None:
    """(question, answer) of a Q&A chunk, else None."""
    question = doc.metadata.get("question") or ""
    if not question:
        return None
    text = doc.page_content
    answer = text.split("\nA:", 1)[1] if "\nA:" in text else text.split(question, 1)[-1]
    return question, answer.strip()


def _display(unit: str) -> str:
    return re.sub(r"\s*\t+\s*", " | ", unit).strip()


class ExtractiveAnswerer:
    """Builds an Answer from retrieved chunks without a language model."""

    def __init__(self, embedder: QueryEmbedder):
        self.embedder = embedder

    def _vec(self, text: str) -> np.ndarray:
        return np.asarray(self.embedder.embed(text))

    def answer(self, question: str, hits: list[Document]) -> Answer:
        return self.documented_answer(question, hits) or self.compose(question, hits)

    def documented_answer(self, question: str, hits: list[Document]) -> Answer | None:
        """If one of the top hits is a Q&A chunk asking the same thing, its answer is the answer."""
        q = self._vec(question)
        best: tuple[float, Document] | None = None
        for doc in hits[:3]:
            parts = qa_parts(doc)
            if not parts:
                continue
            score = float(q @ self._vec(parts[0]))
            if best is None or score > best[0]:
                best = (score, doc)
        if best is None or best[0] < QA_MATCH:
            return None
        doc = best[1]
        question_text, answer_text = qa_parts(doc)
        book = CitationBook()
        n = book.cite(doc, f"Q: {question_text} A: {answer_text}")
        paragraphs = [p.strip() for p in answer_text.split("\n") if p.strip()]
        body = "\n".join(f"{p} [{n}]" for p in paragraphs)
        return Answer(answer=f"{body}", citations=book.citations, grounded=True)

    def compose(self, question: str, hits: list[Document]) -> Answer:
        """The most relevant sentences of the top chunks, each with its chunk's citation number."""
        q = self._vec(question)
        q_tokens = set(tokens(question))
        candidates: list[tuple[float, int, int, str]] = []
        for rank, doc in enumerate(hits[:4]):
            units = [u for u in sentences(doc.page_content) if len(u) > 20 and not u.endswith(":")]
            section = doc.metadata.get("section", "")
            for pos, unit in enumerate(units):
                if unit == section:
                    continue
                overlap = len(q_tokens & set(tokens(unit))) / max(len(q_tokens), 1)
                score = float(q @ self._vec(unit)) + 0.35 * overlap + 0.08 / (rank + 1)
                candidates.append((score, rank, pos, unit))
        candidates.sort(key=lambda c: -c[0])
        chosen: list[tuple[float, int, int, str]] = []
        for cand in candidates:
            if len(chosen) == MAX_SENTENCES:
                break
            if chosen and cand[0] < chosen[0][0] * 0.75:
                break  # much weaker than the best: adds noise, not information
            if any(cand[3] in c[3] or c[3] in cand[3] for c in chosen):
                continue
            chosen.append(cand)
        chosen.sort(key=lambda c: (c[1], c[2]))
        book = CitationBook()
        by_rank: dict[int, list[str]] = {}
        for _, rank, _, unit in chosen:
            by_rank.setdefault(rank, []).append(_display(unit))
        parts = []
        for _, rank, _, unit in chosen:
            n = book.cite(hits[rank], " … ".join(by_rank[rank]))
            parts.append(f"{_display(unit)} [{n}]")
        return Answer(answer=" ".join(parts), citations=book.citations, grounded=True)

    def decline(self, hits: list[Document], reason: str) -> Answer:
        """Say plainly that the documents don't answer it, and list the closest sources."""
        book = CitationBook()
        closest = []
        for doc in hits[:3]:
            n = book.cite(doc)
            label = doc.metadata.get("title") or doc.metadata.get("source")
            section = doc.metadata.get("section")
            closest.append(f"[{n}] {label}" + (f" — {section}" if section else ""))
        text = f"I can't answer that from the partnership documents: {reason}"
        if closest:
            text += "\nThe closest sources I found are: " + "; ".join(closest) + "."
        return Answer(answer=text, citations=book.citations, grounded=False)
