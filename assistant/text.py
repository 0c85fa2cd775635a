"""Small text helpers shared by retrieval and answering: tokens for BM25, sentences for extraction."""
from __future__ import annotations

import re

import snowballstemmer

STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be been being but by can could did do does
    doing for from had has have having he her here hers him his how i if in into is it its itself just me
    more most my no nor not of off on once only or other our ours out over own same she should so some such
    than that the their theirs them then there these they this those through to too under until up very was
    we were what when where which while who whom why will with would you your yours us get got much many
    tell know please there's what's it's i'm we're don't does""".split()
)

# Money, decimals and codes stay whole ("£3.36", "13.76", "2fe"), so BM25 can find exact figures.
TOKEN_RE = re.compile(r"£?\d+(?:[.,]\d+)*(?:k|m|p)?\b|[a-z][a-z0-9]*(?:'[a-z]+)?|\d+[a-z]+")


_stemmer = snowballstemmer.stemmer("english")


def stem(token: str) -> str:
    return _stemmer.stemWord(token)


def tokens(text: str, keep_stopwords: bool = False) -> list[str]:
    out: list[str] = []
    for raw in TOKEN_RE.findall(text.lower().replace("’", "'")):
        if not keep_stopwords and raw in STOPWORDS:
            continue
        tok = raw.replace(",", "") if raw[:1].isdigit() or raw.startswith("£") else stem(raw.split("'")[0])
        out.append(tok)
        if tok.startswith("£"):
            out.append(tok[1:])  # "£19" also matches "19"
    return out


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z0-9£\"“(•\-])")


def sentences(text: str) -> list[str]:
    """Split a chunk into sentence-like units: lines first (bullets, table rows), then sentences."""
    units: list[str] = []
    for line in text.splitlines():
        line = line.strip(" \t-•■*")
        if not line:
            continue
        units.extend(part.strip() for part in _SENTENCE_END.split(line) if part.strip())
    return units
