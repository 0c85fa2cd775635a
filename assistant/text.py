"""Small text helpers shared by retrieval and answering: tokens for BM25, sentences for extraction."""
from __future__ import annotations

import re
import threading
from functools import lru_cache

import snowballstemmer

STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be been being but by can could did do does
    doing for from had has have having he her here hers him his how i if in into is it its itself just me
    more most my no nor not of off on once only or other our ours out over own same she should so some such
    than that the their theirs them then there these they this those through to too under until up very was
    we were what when where which while who whom why will with would you your yours us get got much many
    tell know please there's what's it's i'm we're don't does""".split()
)

MONTHS_RE = "January|February|March|April|May|June|July|August|September|October|November|December"

# Money, decimals and codes stay whole ("£3.36", "13.76", "2fe"), so BM25 can find exact figures.
TOKEN_RE = re.compile(r"£?\d+(?:[.,]\d+)*(?:k|m|p)?\b|[a-z][a-z0-9]*(?:'[a-z]+)?|\d+[a-z]+")


# Snowball stemmers keep per-call state on the instance: one per thread, or concurrent asks corrupt it.
_local = threading.local()


@lru_cache(maxsize=100_000)
def stem(token: str) -> str:
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer.stemWord(token)


# Mixed-case acronyms ("SAfE", "ELP", "BDSIP") also get a case-marked token, so "SAfE" does not match
# every "school safe" alert in the prospectus.
ACRONYM_RE = re.compile(r"\b[A-Za-z]*[A-Z][A-Za-z]*[A-Z][A-Za-z]*\b")


# A plural initialism is the initialism: "NQTs" must find "NQT", and "PRUs" the spelled-out "Pupil Referral Units".
PLURAL_ACRONYM = re.compile(r"\b([A-Z]{2,})s\b")


def singular_acronyms(text: str) -> str:
    return PLURAL_ACRONYM.sub(r"\1", text)


def acronym_tokens(text: str) -> list[str]:
    return [
        "#" + word.lower()
        for word in ACRONYM_RE.findall(text)
        if (not word.isupper() or len(word) <= 6) and word.lower() not in STOPWORDS
    ]


def query_tokens(question: str) -> list[str]:
    """Tokens of a question for BM25: a mixed-case acronym counts only in its case-marked form."""
    mixed_case = {w.lower() for w in ACRONYM_RE.findall(singular_acronyms(question)) if not w.isupper()}
    return [t for t in tokens(question) if t not in mixed_case]


def tokens(text: str, keep_stopwords: bool = False) -> list[str]:
    """BM25 and overlap tokens: acronyms kept distinct, stopwords out, stemmed. Cached: answering a
    question tokenises the same retrieved sentences that earlier questions did."""
    return list(_tokens(text, keep_stopwords))


@lru_cache(maxsize=20_000)
def _tokens(text: str, keep_stopwords: bool) -> tuple[str, ...]:
    text = singular_acronyms(text)
    out: list[str] = acronym_tokens(text)
    for raw in TOKEN_RE.findall(text.lower().replace("’", "'")):
        if not keep_stopwords and raw in STOPWORDS:
            continue
        tok = raw.replace(",", "") if raw[:1].isdigit() or raw.startswith("£") else stem(raw.split("'")[0])
        out.append(tok)
        if tok.startswith("£"):
            out.append(tok[1:])  # "£19" also matches "19"
    return tuple(out)


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


# Runs of capitalised words ("Hillingdon Learning Partnership", "Barking and Dagenham School Improvement
# Partnership"): their initials let "HLP" find a name the documents only ever spell out.
NAME_RUN = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:(?:and|of|for)\s+)?[A-Z][a-z]+){1,6}")


def initialism(name: str) -> str:
    return "".join(word[0] for word in name.split() if word[0].isupper()).lower()


def name_initialisms(texts: list[str]) -> dict[str, str]:
    """Initialism → full name, for every run of capitalised words in `texts` (first spelling wins)."""
    found: dict[str, str] = {}
    for text in texts:
        for name in NAME_RUN.findall(text):
            found.setdefault(initialism(name), name)
    return found


# Years and periods ("2019-20", "2018/19", "in 2023", "Sept 2022"): a question about a period the documents
# never mention asks for facts they do not have (next year's rates), like a name they never use.
_PERIOD_CUE = rf"(?:\b(?:in|for|from|by|since|until|during|of|year|{MONTHS_RE}|Sept)\s+)"
PERIOD_RE = re.compile(
    rf"(?<![£\d.,])\b(20[0-3]\d)\s*(?:-|–|/|to)\s*(20[0-3]\d|[0-3]\d)\b"  # a range: 2019-20, 2018/2019
    rf"|(?i:{_PERIOD_CUE})(20[0-3]\d)\b(?!\s*(?:-|–|/|to)\s*\d)(?![\s-]*(?:pupil|student|child|school|place|people|teacher|staff))",
    re.I,
)


def periods(text: str) -> dict[str, tuple[int, int]]:
    """Each year or period `text` mentions, as written → (first year, last year)."""
    found: dict[str, tuple[int, int]] = {}
    for m in PERIOD_RE.finditer(text):
        if m.group(1):
            first, last = int(m.group(1)), m.group(2)
            end = int(last) if len(last) == 4 else first // 100 * 100 + int(last)
            if first < end <= first + 10:
                found.setdefault(m.group(0), (first, end))
        else:
            year = int(m.group(3))
            found.setdefault(m.group(3), (year, year))
    return found


ANY_YEAR = re.compile(r"(?<![£\d.,])\b20[0-3]\d\b")


def years_mentioned(text: str) -> set[int]:
    """Every year `text` names, including the years inside its periods ("2018-2020" covers 2019)."""
    years = {int(y) for y in ANY_YEAR.findall(text)}
    for first, last in periods(text).values():
        years.update(range(first, last + 1))
    return years
