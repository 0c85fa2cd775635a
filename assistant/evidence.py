"""Is there enough in the retrieved passages to answer? The checks `Assistant.ask` makes before answering,
all on one snapshot of the index (the LexicalIndex the retriever used), so a question reads the store once.

- a capitalised name or acronym the documents never use ("Croydon") means they cannot answer;
- the best passage must be close enough in meaning, unless it shares an acronym or a figure;
- an answer must come from passages that mention every name asked about ("supply agency in Harrow?").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_core.documents import Document

from assistant.glossary import Glossary
from assistant.retrieval import LexicalIndex
from assistant.text import STOPWORDS, periods, singular_acronyms, stem, tokens

QUESTION_WORDS = frozenset(
    "what how can is are do does will why who when where which tell give show explain list describe could "
    "would should hi hello thanks please and or but if so ok okay yes no".split()
)


def capitalised_words(question: str) -> list[str]:
    words = re.findall(r"\b[A-Z][A-Za-z'’-]+\b", singular_acronyms(question))
    return [w for w in words if re.split("['’]", w.lower())[0] not in STOPWORDS | QUESTION_WORDS]


def distinctive_match(question: str, hits: list[Document]) -> bool:
    """An acronym or figure from the question ("SAfE", "£13.76") appears in a top hit."""
    wanted = {t for t in tokens(question) if t.startswith("#") or t[:1].isdigit() or t.startswith("£")}
    return any(wanted & set(tokens(h.page_content)) for h in hits)


@dataclass
class Evidence:
    """The checks on one index snapshot. `qa_match(question, hits) -> (score, doc)` is the answerer's."""

    lexical: LexicalIndex
    glossary: Glossary
    decline_threshold: float

    def unknown_names(self, question: str) -> list[str]:
        """Capitalised names and acronyms in the question that occur nowhere in the documents (sector terms
        the glossary knows, such as "SBM", are vocabulary, not names)."""
        known_terms = {t for group in self.glossary.groups for term in group for t in term}
        return [
            word
            for word in capitalised_words(question)
            if not any(tok in self.lexical.vocabulary or tok in known_terms for tok in tokens(word))
            and stem(word.lower()) not in self.lexical.vocabulary
            and word.lower() not in self.lexical.names
        ]

    def unknown_periods(self, question: str) -> list[str]:
        """Years and periods the question asks about that no document names ("2019-20" rates when the
        documents are of 2018-19): the documents cannot hold those facts."""
        def known(first: int, last: int) -> bool:
            return first in self.lexical.years if first == last else (first, last) in self.lexical.periods

        return [written for written, span in periods(question).items() if not known(*span)]

    def weak(self, question: str, hits: list[Document], qa_score: float) -> str | None:
        """Why the documents don't answer `question`, or None when the evidence is good enough."""
        if not hits:
            return "nothing in them matches the question."
        unknown = self.unknown_names(question)
        unknown += self.unknown_periods(question)
        if unknown:
            return f"they never mention {', '.join(unknown)}."
        # The closest whole passage, or the closest sentence or title within one.
        semantic = max(max(float(h.metadata.get("dense", 0.0)), float(h.metadata.get("part", 0.0))) for h in hits[:3])
        if max(semantic, qa_score) < self.decline_threshold and not distinctive_match(question, hits[:3]):
            return "nothing in them is close enough to the question."
        return None

    def required_names(self, question: str) -> list[frozenset[str]]:
        """What an answer's source must mention: each capitalised name of the question, as its tokens
        (an initialism as its spelled-out name's tokens). "Supply agency in Harrow?" needs a Harrow passage;
        sector terms the glossary knows are not names."""
        required = []
        for word in capitalised_words(question):
            if self.glossary.knows(word):
                continue  # "SBM asking…" is vocabulary (the glossary's), not a partnership the answer must name
            spelled = self.lexical.names.get(word.lower()) if word.isupper() else None
            toks = frozenset(t for t in tokens(spelled or word) if not t.startswith("#")) or frozenset(tokens(word))
            if toks:
                required.append(toks)
        return required
