"""Metric functions on hand-made cases, and the runner driven by a perfect and a useless answerer."""
from __future__ import annotations

import pytest
from langchain_core.documents import Document

from assistant.models import Answer, Citation
from eval.metrics import (
    CitedSource,
    aggregate,
    citation_precision,
    fact_coverage,
    fact_found,
    invented_citations,
    missing_facts,
    percentile,
    ranked_sources,
    recall_at,
    reciprocal_rank,
    score_item,
)
from eval.runner import evaluate
from eval.schema import EvalItem

QA = "qa.txt"
TABLE = "table.txt"


def item(id, kind, facts=(), sources=(), question=None):
    return EvalItem(id=id, kind=kind, question=question or f"question {id}?", reference=f"reference {id}",
                    facts=list(facts), sources=list(sources), origin="hand-made")


ITEMS = [
    item("qa-1", "qa", ["values and guiding principles", "re:\\byes\\b"], [QA]),
    item("fact-1", "fact", ["81%", "19%"], [QA, "booklet.txt"]),
    item("calc-1", "calc", ["£4,467"], [TABLE]),
    item("calc-2", "calc", ["£234"], [TABLE]),
    item("decline-1", "decline"),
]


def test_facts_ignore_case_quotes_and_spacing_and_support_regexes():
    assert fact_found("John Lewis", "a 'john   lewis'\nphilosophy")
    assert fact_found("schools' views", "the schools’ views")
    assert fact_found("high challenge - low threat", "High Challenge – Low Threat")
    assert fact_found("re:£1,?050", "special £1050") and fact_found("re:£1,?050", "special £1,050")
    assert fact_found("re:\\byes\\b", "Yes. Schools need to decide")
    assert not fact_found("re:\\byes\\b", "eyes only")


def test_a_figure_is_not_found_inside_a_longer_figure():
    assert fact_found("£234", "a net position of £234.")
    assert not fact_found("£234", "a net position of £2,345")
    assert not fact_found("£4,467", "£4,4671")
    assert not fact_found("7%", "saving of 17%")
    assert fact_found("7%", "saving of 7%")
    assert not fact_found("£19", "costs £190")  # plain facts ending in a digit need a boundary


def test_fact_coverage_and_missing_facts():
    facts = ["£4,467", "scenario 2", "maintained"]
    assert fact_coverage(facts, "Scenario 2: £4,467 for a maintained primary") == 1.0
    assert fact_coverage(facts, "Scenario 2: £4,466") == pytest.approx(1 / 3)
    assert missing_facts(facts, "Scenario 2: £4,466") == ["£4,467", "maintained"]
    assert fact_coverage([], "anything") is None


def test_retrieval_metrics_deduplicate_sources_in_rank_order():
    ranked = ranked_sources(["a.txt", "a.txt", "b.txt", "a.txt", "c.txt", "", "d.txt", "e.txt", "f.txt"])
    assert ranked == ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt", "f.txt"]
    assert recall_at(1, ranked, ["a.txt"]) == 1.0
    assert recall_at(1, ranked, ["b.txt"]) == 0.0
    assert recall_at(5, ranked, ["e.txt"]) == 1.0
    assert recall_at(5, ranked, ["f.txt"]) == 0.0, "f is the 6th distinct source"
    assert reciprocal_rank(ranked, ["c.txt", "z.txt"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, ["z.txt"]) == 0.0
    assert reciprocal_rank([], ["a.txt"]) == 0.0


def test_citation_precision_and_invented_numbers():
    assert citation_precision(["a.txt", "b.txt", "a.txt", "c.txt"], ["a.txt"]) == 0.5
    assert citation_precision([], ["a.txt"]) is None
    assert invented_citations("Yes [1]. And [2] and [3][3] but not (4) or [x].", [1, 2]) == [3]
    assert invented_citations("No markers.", []) == []


def test_percentiles_interpolate_like_numpy():
    values = [0.1, 0.2, 0.3, 0.4, 1.0]
    assert percentile(values, 50) == pytest.approx(0.3)
    assert percentile(values, 95) == pytest.approx(0.88)
    assert percentile([0.5], 95) == 0.5
    assert percentile([], 50) is None


def test_score_item_for_each_kind():
    calc = ITEMS[2]
    ok = score_item(calc, "It is £4,467 [1].", True, [CitedSource(n=1, source=TABLE)], [TABLE, QA], 0.2)
    assert ok.passed and ok.scores["calc_exact"] == 1.0 and ok.scores["mrr"] == 1.0
    assert ok.scores["decline_accuracy"] is None
    wrong = score_item(calc, "It is £4,466 [2].", True, [CitedSource(n=1, source=QA)], [QA, TABLE], 0.2)
    assert wrong.scores["calc_exact"] == 0.0 and wrong.scores["mrr"] == 0.5
    assert wrong.scores["citation_precision"] == 0.0 and wrong.invented == [2]
    assert wrong.failures == ["missing: £4,467", "invented citation numbers: [2]"]
    declined = score_item(calc, "I can't answer that.", False, [], [TABLE], 0.1)
    assert declined.scores["no_decline_rate"] == 0.0
    assert "not answered (grounded: false — declined, or asked for more input)" in declined.failures

    dec = ITEMS[4]
    good = score_item(dec, "I can't answer that from the documents. Closest: [1] X.", False,
                      [CitedSource(n=1, source=QA)], [QA], 0.1)
    assert good.passed and good.scores["decline_accuracy"] == 1.0
    assert good.scores["recall_at_1"] is None and good.scores["citation_precision"] is None
    bad = score_item(dec, "Croydon charges £10.", True, [], [QA], 0.1)
    assert bad.failures == ["answered instead of declining"] and bad.scores["decline_accuracy"] == 0.0

    crashed = score_item(dec, "", None, [], [], None, error="RuntimeError: boom")
    assert crashed.scores["decline_accuracy"] == 0.0 and crashed.failures == ["error: RuntimeError: boom"]


class PerfectAnswerer:
    """Knows every answer: states the facts, cites the expected source, declines what it should."""

    def __init__(self, items):
        self.by_question = {i.question: i for i in items}

    def retrieve(self, question, filters=None):
        it = self.by_question[question]
        return [Document(page_content="x", metadata={"source": s}) for s in (it.sources or ["other.txt"])]

    def ask(self, question, history=None, filters=None):
        it = self.by_question[question]
        if it.kind == "decline":
            return Answer(answer="I can't answer that from the partnership documents.", grounded=False)
        text = " ".join(f.removeprefix("re:").replace("\\b", "") for f in it.facts)
        return Answer(answer=f"{text} [1]", grounded=True,
                      citations=[Citation(n=1, source=it.sources[0], title="t", snippet="s")])


class UselessAnswerer:
    """Always answers, says nothing useful, retrieves the wrong document."""

    def retrieve(self, question, filters=None):
        return [Document(page_content="x", metadata={"source": "unrelated.txt"})]

    def ask(self, question, history=None, filters=None):
        return Answer(answer="Education is important.", grounded=True)


class CrashingAnswerer(UselessAnswerer):
    def ask(self, question, history=None, filters=None):
        raise RuntimeError("the model fell over")


def test_perfect_answerer_scores_full_marks():
    run = evaluate(PerfectAnswerer(ITEMS), ITEMS, name="perfect")
    overall = run.summary["overall"]
    for metric in ("recall_at_1", "recall_at_5", "mrr", "citation_precision", "fact_coverage", "calc_exact",
                   "decline_accuracy", "no_decline_rate", "pass_rate"):
        assert overall[metric] == 1.0, metric
    assert overall["invented_citations"] == 0 and overall["errors"] == 0
    assert overall["items"] == 5 and overall["latency_p50"] is not None
    assert set(run.summary["by_kind"]) == {"qa", "fact", "calc", "decline"}
    assert run.summary["by_kind"]["calc"]["items"] == 2
    assert run.summary["by_kind"]["decline"]["fact_coverage"] is None


def test_useless_answerer_scores_zero():
    run = evaluate(UselessAnswerer(), ITEMS, name="useless")
    overall = run.summary["overall"]
    for metric in ("recall_at_1", "recall_at_5", "mrr", "fact_coverage", "calc_exact", "decline_accuracy", "pass_rate"):
        assert overall[metric] == 0.0, metric
    assert overall["no_decline_rate"] == 1.0, "it never declines, which is exactly the problem"
    assert overall["citation_precision"] is None, "it cites nothing"
    assert all(not r.passed for r in run.results)


def test_a_crashing_answerer_is_reported_item_by_item():
    run = evaluate(CrashingAnswerer(), ITEMS[:2], name="crashing")
    assert run.summary["overall"]["errors"] == 2
    assert all(r.error == "RuntimeError: the model fell over" for r in run.results)
    assert run.summary["overall"]["latency_p50"] is None
    assert run.to_dict()["items"][0]["passed"] is False


def test_aggregate_by_kind_only_lists_present_kinds():
    results = [score_item(ITEMS[4], "no", False, [], [], 0.1)]
    summary = aggregate(results)
    assert list(summary["by_kind"]) == ["decline"]
    assert summary["overall"]["decline_accuracy"] == 1.0


def test_aggregate_by_variant_compares_verbatim_and_paraphrased_pairs():
    base = dict(kind="qa", reference="r", facts=["cluster model"], sources=[QA], origin="hand-made")
    verbatim = EvalItem(id="p-verbatim", variant="verbatim", question="How?", **base)
    paraphrase = EvalItem(id="p-paraphrase", variant="paraphrase", question="how tho", **base)
    results = [score_item(verbatim, "The cluster model.", True, [], [QA], 0.1),
               score_item(paraphrase, "No idea.", True, [], [QA], 0.1)]
    summary = aggregate(results)
    assert summary["by_variant"]["verbatim"]["pass_rate"] == 1.0
    assert summary["by_variant"]["paraphrase"]["pass_rate"] == 0.0
    assert summary["by_kind"]["qa"]["pass_rate"] == 0.5
    assert aggregate(results[:1])["by_variant"].keys() == {"verbatim"}
