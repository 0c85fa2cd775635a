"""Metric functions of the evaluation: pure, no model, no I/O.

Per item: retrieval (recall@1, recall@5, MRR — of the item's `passage` among the retrieved chunks when it
has one, else of the expected source among the retrieved sources deduplicated in rank order; plus
source-level recall@5 for every answerable item), citations (precision, invented numbers), answer (fact
coverage, calc exact, decline behaviour, whether the first sentence already states a fact) and latency.
`aggregate` turns item results into figures overall, by kind, by variant and by split.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from pydantic import BaseModel, Field

from eval.schema import KINDS, REGEX_PREFIX, SPLITS, VARIANTS, EvalItem

# Metric names accepted by --fail-under (higher is better) and --fail-over (lower is better).
HIGHER_IS_BETTER = (
    "recall_at_1",
    "recall_at_5",
    "mrr",
    "source_recall_at_5",
    "citation_precision",
    "fact_coverage",
    "lead_fact_rate",
    "calc_exact",
    "decline_accuracy",
    "no_decline_rate",
    "pass_rate",
    "faithfulness",
)
LOWER_IS_BETTER = ("invented_citations", "errors", "latency_p50", "latency_p95")
ALL_METRICS = HIGHER_IS_BETTER + LOWER_IS_BETTER

_MARKER = re.compile(r"\[(\d+)\]")
_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "−": "-", "\u00a0": " "})


def normalise(text: str) -> str:
    """Lower case, straight quotes and dashes, single spaces: what facts are matched against."""
    return re.sub(r"\s+", " ", text.translate(_TRANSLATE)).strip().lower()


@lru_cache(maxsize=4096)
def _fact_pattern(fact: str) -> re.Pattern:
    if fact.startswith(REGEX_PREFIX):
        return re.compile(fact[len(REGEX_PREFIX):], re.IGNORECASE)
    body = re.escape(normalise(fact))
    # A figure must not be part of a longer one: "£234" is not found in "£2,345", nor "7%" in "17%".
    if normalise(fact)[:1].isdigit():
        body = r"(?<![\d.,])" + body
    if normalise(fact)[-1:].isdigit():
        body += r"(?!\d|[.,]\d)"
    return re.compile(body, re.IGNORECASE)


def fact_found(fact: str, text: str) -> bool:
    """Whether `fact` (a string, or a regular expression after "re:") occurs in `text`, ignoring case."""
    return _fact_pattern(fact).search(normalise(text)) is not None


def missing_facts(facts: Sequence[str], text: str) -> list[str]:
    return [f for f in facts if not fact_found(f, text)]


def fact_coverage(facts: Sequence[str], text: str) -> float | None:
    """Share of `facts` present in `text`; None when there are no facts to look for."""
    if not facts:
        return None
    return 1.0 - len(missing_facts(facts, text)) / len(facts)


def passage_found(passage: str, text: str) -> bool:
    """Whether `passage` occurs in `text`, both normalised as facts are (case, quotes, dashes, spaces)."""
    needle = normalise(passage)
    return bool(needle) and needle in normalise(text)


def passage_rank(passage: str, texts: Iterable[str]) -> int | None:
    """1-based rank of the first chunk text containing `passage`, None when no chunk does."""
    for rank, text in enumerate(texts, start=1):
        if passage_found(passage, text):
            return rank
    return None


# A sentence ends at ".", "!" or "?" (and any closing quotes or brackets) followed by whitespace, a
# citation marker ("[1]") or the end of the text; or at a newline.
_SENTENCE_END = re.compile(r"[.!?]+[\"'’”)\]]*(?=\s|\[\d+\]|$)|\n")
# Full stops that never end a sentence, and ones that end it only before a capital ("etc. The").
_ALWAYS_INSIDE = {"e.g", "eg", "i.e", "ie", "mr", "mrs", "ms", "dr", "st", "viz"}
_INSIDE_UNLESS_CAPITAL = {"etc", "approx", "incl", "esp", "cf", "vs", "pp", "p", "fig", "ref", "est", "dept"}
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def first_sentence(text: str) -> str:
    """The first sentence of an answer: leading whitespace stripped, cut after the first ".", "!" or "?"
    followed by whitespace or a citation marker (or at the end), or at the first newline.

    Not a sentence end: a decimal point or thousands separator ("£3.36", "1,050.5"), the full stop of an
    abbreviation ("e.g. a cluster", "approx. £3"), a full stop followed by a lower-case word, and the
    "1." of a numbered list's first item."""
    text = text.lstrip()
    for match in _SENTENCE_END.finditer(text):
        if match.group() == "\n":
            return text[:match.start()].rstrip()
        if match.group()[0] == "." and match.group()[:2] != "..":
            before = text[:match.start()]
            following = text[match.end():].lstrip(" \t")[:1]
            word = _WORD_BEFORE.search(before)
            abbreviation = word.group(1).lower().rstrip(".") if word else ""
            if abbreviation in _ALWAYS_INSIDE and following:
                continue
            if abbreviation in _INSIDE_UNLESS_CAPITAL and following and not following.isupper():
                continue
            if following.islower():
                continue  # "… per pupil. which …": one sentence (or an abbreviation not listed above)
            if before.strip().isdigit():
                continue  # "1. The first step …"
        return text[:match.end()]
    return text.rstrip()


def lead_fact(facts: Sequence[str], answer_text: str) -> bool:
    """Whether the answer's first sentence already contains one of `facts`."""
    head = first_sentence(answer_text)
    return any(fact_found(f, head) for f in facts)


def ranked_sources(sources: Iterable[str]) -> list[str]:
    """Sources of the retrieved chunks, best first, each kept at its first (best) position."""
    return list(dict.fromkeys(s for s in sources if s))


def recall_at(k: int, ranked: Sequence[str], expected: Iterable[str]) -> float:
    """1.0 if an expected source is among the first `k` distinct retrieved sources."""
    wanted = set(expected)
    return 1.0 if any(s in wanted for s in ranked[:k]) else 0.0


def reciprocal_rank(ranked: Sequence[str], expected: Iterable[str]) -> float:
    """1 / rank of the first expected source among the distinct retrieved sources (0 if absent)."""
    wanted = set(expected)
    for rank, source in enumerate(ranked, start=1):
        if source in wanted:
            return 1.0 / rank
    return 0.0


def citation_precision(cited_sources: Sequence[str], expected: Iterable[str]) -> float | None:
    """Share of cited chunks whose source is expected; None when nothing is cited."""
    if not cited_sources:
        return None
    wanted = set(expected)
    return sum(1 for s in cited_sources if s in wanted) / len(cited_sources)


def invented_citations(answer_text: str, citation_numbers: Iterable[int]) -> list[int]:
    """[n] markers in the answer that no citation carries (each number listed once)."""
    known = set(citation_numbers)
    return sorted({int(n) for n in _MARKER.findall(answer_text)} - known)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100), as numpy's default; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


class CitedSource(BaseModel):
    n: int
    source: str


class ItemResult(BaseModel):
    """What one answerer did with one item, and how it scored (None = metric not applicable)."""

    id: str
    kind: str
    variant: str | None = None
    split: str = "dev"
    question: str
    reference: str
    history: list[dict[str, str]] = Field(default_factory=list)
    passage: str | None = None
    answer: str = ""
    grounded: bool | None = None
    citations: list[CitedSource] = Field(default_factory=list)
    retrieved_sources: list[str] = Field(default_factory=list)
    # Items with a passage: rank of the first chunk containing it per retrieval stage (None = not retrieved),
    # in stage order, the last stage being the final ranking. Empty for items without a passage.
    passage_ranks: dict[str, int | None] = Field(default_factory=dict)
    latency_s: float | None = None
    error: str | None = None
    scores: dict[str, float | None] = Field(default_factory=dict)
    missing_facts: list[str] = Field(default_factory=list)
    invented: list[int] = Field(default_factory=list)
    failures: list[str] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def score_item(
    item: EvalItem,
    answer_text: str,
    grounded: bool | None,
    citations: Sequence[CitedSource],
    retrieved: Sequence[str],
    latency_s: float | None,
    error: str | None = None,
    passage_ranks: Mapping[str, int | None] | None = None,
) -> ItemResult:
    """Score one answer. `retrieved` is the sources of the retrieved chunks in rank order (duplicates ok);
    `grounded` is None when the answerer raised (`error`), which counts as a failure everywhere.

    `passage_ranks` (items with a `passage`): stage name -> 1-based rank of the first chunk containing the
    passage (None = absent), the last stage being the final ranking. For such items recall@1, recall@5 and
    MRR are passage-level on that final rank (no ranks given = not retrieved); `source_recall_at_5` stays
    source-level for every answerable item."""
    ranked = ranked_sources(retrieved)
    cited = [c.source for c in citations]
    missing = missing_facts(item.facts, answer_text)
    invented = invented_citations(answer_text, [c.n for c in citations])
    ranks = dict(passage_ranks or {}) if item.passage is not None else {}
    scores: dict[str, float | None] = {
        "recall_at_1": None,
        "recall_at_5": None,
        "mrr": None,
        "source_recall_at_5": None,
        "citation_precision": None,
        "fact_coverage": None,
        "lead_fact_rate": None,
        "calc_exact": None,
        "decline_accuracy": None,
        "no_decline_rate": None,
        "faithfulness": None,  # set by the runner when an LLM judge is configured
        "invented_citations": float(len(invented)),
    }
    failures: list[str] = []
    if error:
        failures.append(f"error: {error}")
    if item.answerable:
        if item.passage is not None:
            final = list(ranks.values())[-1] if ranks else None
            scores["recall_at_1"] = 1.0 if final is not None and final <= 1 else 0.0
            scores["recall_at_5"] = 1.0 if final is not None and final <= 5 else 0.0
            scores["mrr"] = 1.0 / final if final else 0.0
        else:
            scores["recall_at_1"] = recall_at(1, ranked, item.sources)
            scores["recall_at_5"] = recall_at(5, ranked, item.sources)
            scores["mrr"] = reciprocal_rank(ranked, item.sources)
        scores["source_recall_at_5"] = recall_at(5, ranked, item.sources)
        scores["citation_precision"] = citation_precision(cited, item.sources)
        scores["fact_coverage"] = fact_coverage(item.facts, answer_text)
        scores["no_decline_rate"] = 1.0 if grounded else 0.0
        if grounded:
            scores["lead_fact_rate"] = 1.0 if lead_fact(item.facts, answer_text) else 0.0
        if item.kind == "calc":
            scores["calc_exact"] = 1.0 if not missing else 0.0
        if grounded is False:
            failures.append("not answered (grounded: false — declined, or asked for more input)")
        if missing:
            failures.append("missing: " + "; ".join(missing))
    else:
        scores["decline_accuracy"] = 1.0 if grounded is False else 0.0
        if grounded:
            failures.append("answered instead of declining")
    if invented:
        failures.append("invented citation numbers: " + ", ".join(f"[{n}]" for n in invented))
    return ItemResult(
        id=item.id,
        kind=item.kind,
        variant=item.variant,
        split=item.split,
        question=item.question,
        reference=item.reference,
        history=[{"role": t.role, "content": t.content} for t in item.history or []],
        passage=item.passage,
        answer=answer_text,
        grounded=grounded,
        citations=list(citations),
        retrieved_sources=ranked,
        passage_ranks=ranks,
        latency_s=latency_s,
        error=error,
        scores=scores,
        missing_facts=missing,
        invented=invented,
        failures=failures,
    )


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def summarise(results: Sequence[ItemResult]) -> dict[str, float | int | None]:
    """Figures of one group of items: means of per-item metrics (over items where they apply), total
    invented citation numbers, error count and latency percentiles (seconds)."""
    latencies = [r.latency_s for r in results if r.latency_s is not None]
    summary: dict[str, float | int | None] = {"items": len(results)}
    for name in ("recall_at_1", "recall_at_5", "mrr", "source_recall_at_5", "citation_precision", "fact_coverage",
                 "lead_fact_rate", "calc_exact", "decline_accuracy", "no_decline_rate", "faithfulness"):
        summary[name] = _mean(r.scores.get(name) for r in results)
    summary["pass_rate"] = _mean(1.0 if r.passed else 0.0 for r in results)
    summary["invented_citations"] = sum(len(r.invented) for r in results)
    summary["errors"] = sum(1 for r in results if r.error)
    summary["latency_p50"] = percentile(latencies, 50)
    summary["latency_p95"] = percentile(latencies, 95)
    summary["stage_recall_at_5"] = stage_recall_at_5(results)
    return summary


def stage_recall_at_5(results: Sequence[ItemResult]) -> dict[str, float]:
    """{stage: share of the items with a passage whose passage is in that stage's first 5 chunks}, stages
    in retrieval order; an item without a given stage is not counted for it."""
    hits: dict[str, list[float]] = {}
    for r in results:
        for stage, rank in r.passage_ranks.items():
            hits.setdefault(stage, []).append(1.0 if rank is not None and rank <= 5 else 0.0)
    return {stage: sum(values) / len(values) for stage, values in hits.items()}


def aggregate(results: Sequence[ItemResult]) -> dict:
    """{"overall": summary, "by_kind": {kind: summary}, "by_variant": {variant: summary},
    "by_split": {split: summary}} for the kinds, variants and splits present (variants: the documented Q&A
    pairs asked verbatim vs paraphrased; splits: dev and the held-out test)."""
    by_kind = {k: summarise([r for r in results if r.kind == k]) for k in KINDS if any(r.kind == k for r in results)}
    by_variant = {v: summarise([r for r in results if r.variant == v]) for v in VARIANTS
                  if any(r.variant == v for r in results)}
    by_split = {s: summarise([r for r in results if r.split == s]) for s in SPLITS if any(r.split == s for r in results)}
    return {"overall": summarise(results), "by_kind": by_kind, "by_variant": by_variant, "by_split": by_split}
