"""The embedded default answerer: extractive and grounded. It never writes a sentence of its own about the
partnerships; every sentence it returns is quoted from a retrieved chunk and carries that chunk's [n].

Two modes: a documented Q&A answer when the best hit is a Q&A chunk whose question matches, otherwise the
most relevant sentences of the top chunks.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

import numpy as np
from langchain_core.documents import Document

from assistant.models import Answer, Citation
from assistant.passages import embedding_text, qa_parts, sentence_units
from assistant.retrieval import QueryEmbedder
from assistant.glossary import Glossary
from assistant.text import tokens

QA_MATCH = 0.62  # question-to-question cosine above which the documented answer is the answer…
QA_SAME = 0.8  # …provided it mentions what was asked about, unless the questions are this close
QA_RANKED_FIRST = 0.3  # the retriever's best chunk is a Q&A row: its answer leads unless its question is unrelated
ON_TOPIC = 0.7  # a sentence this close to the question answers it even without shared words
MAX_SENTENCES = 3
CHUNKS_QUOTED = 4  # top chunks whose sentences may be quoted
RANK_PRIOR = 0.08  # a sentence of a better-ranked chunk is preferred, a little
SUPPORT_SHARE = 0.75  # a sentence scoring under this share of the best adds noise, not information
MAX_LIST_ITEMS = 6
SNIPPET_CHARS = 320
LIST_QUESTION = re.compile(
    r"^\s*(what|which)\s+(are|were)\b|^\s*(list|name)\b|\b(options|conditions|priorities|steps|members)\b"
    r"|^\s*who\s+(sits?|serves?|are)\b",
    re.I,
)


@dataclass
class CitationBook:
    """Numbers chunks in order of first citation; a number is only ever handed out for a real chunk."""

    citations: list[Citation] = field(default_factory=list)
    _by_id: dict[str, int] = field(default_factory=dict)

    def cite(self, doc: Document, snippet: str | None = None) -> int:
        key = doc.id or doc.page_content
        if key not in self._by_id:
            meta = doc.metadata
            page = meta.get("page")
            self._by_id[key] = len(self.citations) + 1
            self.citations.append(
                Citation(
                    n=self._by_id[key],
                    source=meta.get("source", ""),
                    title=meta.get("title") or meta.get("source", ""),
                    section=meta.get("section") or None,
                    page=page if isinstance(page, int) and page >= 0 else None,
                    snippet=clip(snippet or doc.page_content),
                )
            )
        return self._by_id[key]


def clip(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def display(unit: str) -> str:
    # "[7]" written in a document would pose as a citation marker: show it as "(7)".
    return re.sub(r"\[(\d+)\]", r"(\1)", re.sub(r"\s*\t+\s*", " | ", unit)).strip()


@dataclass(order=True)
class Candidate:
    score: float
    rank: int
    pos: int
    unit: str = field(compare=False)
    similarity: float = field(compare=False, default=0.0)
    covers_focus: bool = field(compare=False, default=False)


class ExtractiveAnswerer:
    """Builds an Answer from retrieved chunks without a language model."""

    WARM_BATCH = 16  # sentences per model call while warming: a request waits for one small call at most

    def __init__(self, embedder: QueryEmbedder, glossary: Glossary = Glossary()):
        self.embedder = embedder
        self.glossary = glossary

    def warm(self, docs: list[Document], stop: threading.Event | None = None) -> int:
        """Embed every quotable sentence and documented question of `docs` ahead of questions (answers then
        only embed the question), until `stop` is set. Returns how many texts were embedded."""
        texts = [qa[0] for d in docs if (qa := qa_parts(d))]  # documented questions, for qa_match
        texts += [embedding_text(unit, d.metadata.get("section", "")) for d in docs for _, unit in sentence_units(d)]
        texts = list(dict.fromkeys(texts))
        for start in range(0, len(texts), self.WARM_BATCH):
            if stop is not None and stop.is_set():
                return start
            self.embedder.embed_many(texts[start : start + self.WARM_BATCH])
        return len(texts)

    def answer(self, question: str, hits: list[Document], required: list[frozenset[str]] = ()) -> Answer | None:
        """The documented answer or composed sentences, from passages that mention every name in
        `required` (token sets); None when nothing fits (the caller declines)."""
        hits = [h for h in hits if mentions_all(h, required)]
        if not hits:
            return None
        return self.documented_answer(question, hits) or self.compose(question, hits)

    def qa_match(self, question: str, hits: list[Document]) -> tuple[float, Document | None]:
        """The best Q&A chunk among the top hits by question-to-question similarity."""
        qa_hits = [d for d in hits[:3] if qa_parts(d)]
        if not qa_hits:
            return 0.0, None
        q = np.asarray(self.embedder.embed(question))
        vectors = np.asarray(self.embedder.embed_many([qa_parts(d)[0] for d in qa_hits]))
        scores = vectors @ q
        best = int(np.argmax(scores))
        return float(scores[best]), qa_hits[best]

    def documented_answer(self, question: str, hits: list[Document]) -> Answer | None:
        """If one of the top hits is a Q&A chunk asking the same thing, its answer is the answer."""
        score, doc = self.qa_match(question, hits)
        focus = focus_tokens(question, self.glossary)
        if doc is None or score < QA_MATCH or (score < QA_SAME and focus and not focus & set(tokens(doc.page_content))) \
                or score < closest_above(doc, hits):
            # "What governor support does ELP provide?" is not "What is ELP?"; but a Q&A row ranked first on
            # every signal answers a question worded nothing like its own ("go it alone?" → "Isolation…").
            score, doc = self.qa_match(question, hits[:1])
            if doc is None or score < QA_RANKED_FIRST:
                return None
        question_text, answer_text = qa_parts(doc)
        book = CitationBook()
        n = book.cite(doc, f"Q: {question_text} A: {answer_text}")
        paragraphs = [p.strip() for p in answer_text.split("\n") if p.strip()]
        return Answer(answer="\n".join(f"{display(p)} [{n}]" for p in paragraphs), citations=book.citations, grounded=True)

    def candidates(self, question: str, hits: list[Document]) -> list[Candidate]:
        """Sentences of the top chunks scored by meaning, shared words and the chunk's rank."""
        q_tokens = set(tokens(question))
        q_tokens |= set(self.glossary.related(q_tokens))
        focus = focus_tokens(question, self.glossary)
        acronyms = {t for t in q_tokens if t.startswith("#")}
        units = []
        for rank, doc in enumerate(hits[:CHUNKS_QUOTED]):
            section = doc.metadata.get("section", "")
            names_chunk = bool(acronyms & set(tokens(f"{section} {doc.page_content}")))
            units += [(rank, pos, unit, section, names_chunk) for pos, unit in sentence_units(doc)]
        if not units:
            return []
        q = np.asarray(self.embedder.embed(question))
        sims = np.asarray(self.embedder.embed_many([embedding_text(u, sec) for _, _, u, sec, _ in units])) @ q
        out = []
        for (rank, pos, unit, section, names_chunk), sim in zip(units, sims):
            unit_tokens = set(tokens(unit))
            overlap = len(q_tokens & unit_tokens) / max(len(q_tokens), 1)
            # A table row answers what its title asks: "board members" rows answer "who sits on the board".
            covers = bool(focus & (unit_tokens | set(tokens(section)))) or not focus
            score = float(sim) + 0.35 * overlap + RANK_PRIOR / (rank + 1) + 0.15 * covers + 0.1 * names_chunk
            score += 0.1 * answers_type(question, unit)
            unit = re.sub(r"^[QA]:\s*", "", unit)
            out.append(Candidate(score, rank, pos, unit, float(sim), covers))
        return sorted(out, key=lambda c: -c.score)

    def compose(self, question: str, hits: list[Document]) -> Answer | None:
        """The most relevant sentences of the top chunks, each with its chunk's citation number.

        Sentences that contain what the question asks about (its focus words) lead. Returns None when no
        sentence addresses the question, so the caller declines rather than quoting something off-topic.
        """
        ranked = self.candidates(question, hits)
        # On topic: it names what is asked about, is close in meaning, or gives the kind of thing asked for
        # (a date for "when did BDSIP go live?": "launched on 1 April 2018" shares no word with it).
        on_topic = [c for c in ranked[:8] if c.covers_focus or c.similarity >= ON_TOPIC or answers_type(question, c.unit)]
        if asks_quantity(question):
            # "How many…?", "what's their day rate?": a sentence without any quantity does not answer it,
            # however close its topic (a board member's row is not the school's results).
            on_topic = [c for c in on_topic if gives_quantity(c.unit)]
        if not on_topic:
            return None
        best = on_topic[0]
        if LIST_QUESTION.search(question):
            # "What are the options?" — quote the items of the best chunk rather than three scattered lines.
            limit, chosen = MAX_LIST_ITEMS, [c for c in ranked if c.rank == best.rank]
        else:
            limit, chosen = MAX_SENTENCES, on_topic
        picked: list[Candidate] = []
        for cand in chosen:
            if len(picked) == limit or cand.score < best.score * SUPPORT_SHARE:
                break  # much weaker than the best: adds noise, not information
            if any(cand.unit in c.unit or c.unit in cand.unit for c in picked):
                continue
            picked.append(cand)
        # The best sentence leads (it answers); the others follow in the documents' order.
        picked = picked[:1] + sorted(picked[1:], key=lambda c: (c.rank, c.pos))
        book = CitationBook()
        by_rank: dict[int, list[str]] = {}
        for c in picked:
            by_rank.setdefault(c.rank, []).append(display(c.unit))
        parts = [f"{display(c.unit)} [{book.cite(hits[c.rank], ' … '.join(by_rank[c.rank]))}]" for c in picked]
        return Answer(answer=" ".join(parts), citations=book.citations, grounded=True)


def closest_above(doc: Document, hits: list[Document]) -> float:
    """How closely the best passage ranked above `doc` matches the question (its best part's or whole
    chunk's cosine): a documented question lower down that matches less well is another question
    ("do we have to join?" is answered by the passage ranked first, not the Q&A row about representation)."""
    above = hits[: next((i for i, h in enumerate(hits) if h is doc), 0)]
    return max((max(float(h.metadata.get("part", 0.0)), float(h.metadata.get("dense", 0.0))) for h in above), default=0.0)


CLOSEST_SOURCES = 3


def cite_closest(hits: list[Document], book: CitationBook) -> list[int]:
    """Cite the best retrieved chunks as the closest sources (a decline, or an answer that cites nothing)."""
    return [book.cite(doc) for doc in hits[:CLOSEST_SOURCES]]


def decline(hits: list[Document], reason: str) -> Answer:
    """The one way to say the documents don't answer: the reason, then the closest sources."""
    book = CitationBook()
    closest = []
    for n, doc in zip(cite_closest(hits, book), hits):
        label = doc.metadata.get("title") or doc.metadata.get("source")
        section = doc.metadata.get("section")
        closest.append(f"[{n}] {label}" + (f" — {clip(section, 90)}" if section else ""))
    text = f"I can't answer that from the partnership documents: {reason}"
    if closest:
        text += "\nThe closest sources I found are: " + "; ".join(closest) + "."
    return Answer(answer=text, citations=book.citations, grounded=False)


MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
ANSWER_TYPES = [  # (what the question asks for, what a sentence that gives it contains)
    (re.compile(r"^\s*when\b|\bwhat date\b|\bdeadline\b", re.I), re.compile(rf"\b({MONTHS}|\d{{4}})\b")),
    (re.compile(r"\bhow much\b|\b(cost|costs|pay|charge|charges|fee|fees|price)\b", re.I), re.compile(r"£\d|\d+p\b")),
    (re.compile(r"\bhow many\b|\bwhat (share|percentage|proportion)\b", re.I), re.compile(r"\d")),
]


QUANTITY_ASKED = re.compile(
    r"\bhow (much|many)\b|\bwhat (share|percentage|proportion|number)\b"
    r"|\bwhat(?:'s|s| is| are| was| were)\s+(?:the\s+|their\s+|its\s+|our\s+)?(?:[\w'’-]+\s+){0,3}"
    r"(?:fee|fees|charge|charges|cost|costs|price|prices|rate|rates|total|turnover|budget)\b",
    re.I,
)
NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred"
                r"|thousand|million|dozen|half|quarter|third|all|every|none|no one|majority|most|free")
GIVES_QUANTITY = re.compile(rf"\d|£|%|\b({NUMBER_WORDS})\b", re.I)


def asks_quantity(question: str) -> bool:
    return bool(QUANTITY_ASKED.search(question))


def gives_quantity(unit: str) -> bool:
    return bool(GIVES_QUANTITY.search(unit))


def answers_type(question: str, unit: str) -> bool:
    """The sentence carries the kind of thing asked for: a date for "when", a sum for "how much"."""
    return any(asks.search(question) and gives.search(unit) for asks, gives in ANSWER_TYPES)


def mentions_all(doc: Document, required: list[frozenset[str]]) -> bool:
    if not required:
        return True
    meta = doc.metadata
    # Not the document-wide list of partnerships: a slide deck naming SAfE once is not about SAfE throughout.
    labels = " ".join(str(meta.get(k, "")) for k in ("section", "title", "partnership"))
    present = set(tokens(f"{labels} {doc.page_content}"))
    return all(names <= present for names in required)


GENERIC = frozenset(tokens("school schools partnership partnerships ELP pupil pupils primary secondary", keep_stopwords=True))


def focus_tokens(question: str, glossary: Glossary = Glossary()) -> set[str]:
    """What the question asks about beyond the names in it: 'What Ofsted grade did Oaklands get?' → {grade}."""
    # Sector terms the glossary knows ("SENCO", "SBM") are what is asked about, not names.
    names = {w.lower() for w in re.findall(r"\b[A-Z][A-Za-z'’-]+\b", question[1:]) if not glossary.knows(w)}
    words = [w for w in re.findall(r"£?[\w.']+", question) if w.lower() not in names]
    focus = set(tokens(" ".join(words)))
    return (focus | set(glossary.related(focus))) - GENERIC
