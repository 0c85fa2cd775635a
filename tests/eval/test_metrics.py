"""Metric functions on hand-made cases, and the runner driven by a perfect and a useless answerer."""
from __future__ import annotations

import pytest
from langchain_core.documents import Document

from assistant.models import Answer, Citation, Message
from eval.metrics import (
    CitedSource,
    aggregate,
    citation_precision,
    fact_coverage,
    fact_found,
    first_sentence,
    invented_citations,
    lead_fact,
    missing_facts,
    passage_found,
    passage_rank,
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


# -- first sentence and lead_fact_rate -----------------------------------------------------------------
@pytest.mark.parametrize("text, first", [
    ("£3.36 per pupil. The rest follows.", "£3.36 per pupil."),
    ("  \n It costs £3.36 per pupil [1]. Then more.", "It costs £3.36 per pupil [1]."),
    ("Yes.[1] Schools need to decide.", "Yes."),
    ("Yes. Schools need to decide.", "Yes."),
    ("No! Never.", "No!"),
    ("Is it? Perhaps.", "Is it?"),
    ("Small schools, e.g. one-form entry, pay £1,050.5 a year. Others pay more.",
     "Small schools, e.g. one-form entry, pay £1,050.5 a year."),
    ("Core services (i.e. The Offer) are included. Traded ones are not.", "Core services (i.e. The Offer) are included."),
    ("It costs approx. £3 per pupil. More.", "It costs approx. £3 per pupil."),
    ("Peer review, CPD etc. are in the core. Then.", "Peer review, CPD etc. are in the core."),
    ("The core offer includes:\n- peer review\n- CPD", "The core offer includes:"),
    ("1. Decide to join. 2. Pay.", "1. Decide to join."),
    ('The sheet says "yes." Then it explains.', 'The sheet says "yes."'),
    ("No full stop at all", "No full stop at all"),
    ("Ends with a marker. [2] Next sentence.", "Ends with a marker."),
    ("", ""),
])
def test_first_sentence(text, first):
    assert first_sentence(text) == first


def test_lead_fact_rate_counts_answered_answerable_items_whose_first_sentence_has_a_fact():
    qa, calc, dec = ITEMS[0], ITEMS[2], ITEMS[4]
    leads = score_item(calc, "It is £4,467 [1]. That is the net position.", True, [], [TABLE], 0.1)
    buried = score_item(qa, "The partnership has a core offer.\nIt rests on values and guiding principles [1].",
                        True, [], [QA], 0.1)
    declined = score_item(qa, "I can't answer: values and guiding principles are not covered.", False, [], [QA], 0.1)
    declining = score_item(dec, "I can't answer that.", False, [], [QA], 0.1)
    assert leads.scores["lead_fact_rate"] == 1.0 and buried.scores["lead_fact_rate"] == 0.0
    assert declined.scores["lead_fact_rate"] is None, "only answered items count"
    assert declining.scores["lead_fact_rate"] is None
    assert aggregate([leads, buried, declined, declining])["overall"]["lead_fact_rate"] == 0.5
    # Any one fact in the first sentence is enough; regex facts count too.
    assert lead_fact(["£4,467", "scenario 2"], "Under scenario 2 the figure differs. It is £4,467.")
    assert lead_fact(["re:\\byes\\b"], "Yes. Schools need to decide.")
    assert not lead_fact(["£3.36"], "The rate is set per pupil. It is £3.36.")


# -- passage-level retrieval ---------------------------------------------------------------------------
PASSAGE_ITEM = EvalItem(id="qa-passage", kind="qa", question="Is it all or nothing?", reference="Yes.",
                        facts=["values and guiding principles"], sources=[QA], origin="hand-made",
                        passage="subscribe to the  VALUES and guiding principles")


def chunks(*pairs):
    return [Document(page_content=text, metadata={"source": source}) for source, text in pairs]


# The item's source comes first, but the chunk that answers is only third.
RANKED = chunks((QA, "Why is ELP only for one year? The commitment is for one year."),
                ("other.txt", "Peer review triads and capacity."),
                (QA, "Yes. Schools need to decide if they subscribe to the values and guiding principles of ELP."),
                (TABLE, "£4,467"))


def test_passage_rank_normalises_like_facts():
    texts = [d.page_content for d in RANKED]
    assert passage_rank(PASSAGE_ITEM.passage, texts) == 3
    assert passage_rank("Subscribe to the ‘values’ and guiding principles", ["they subscribe to the 'values' and guiding\nprinciples"]) == 1
    assert passage_rank("high challenge - low threat", ["High Challenge – Low Threat"]) == 1
    assert passage_rank("not there", texts) is None and passage_rank("x", []) is None
    assert passage_found("£3.36 per pupil", "costs £3.36  per\tpupil") and not passage_found("£3.36", "£3.3")


def test_recall_and_mrr_are_passage_level_when_the_item_has_a_passage():
    sources = [d.metadata["source"] for d in RANKED]
    result = score_item(PASSAGE_ITEM, "Yes [1].", True, [], sources, 0.1, passage_ranks={"final": 3})
    assert result.scores["recall_at_1"] == 0.0, "the source is first but the passage is in the third chunk"
    assert result.scores["recall_at_5"] == 1.0
    assert result.scores["mrr"] == pytest.approx(1 / 3)
    assert result.scores["source_recall_at_5"] == 1.0
    assert result.passage_ranks == {"final": 3}
    # The same item without a passage keeps the source-level figures.
    no_passage = PASSAGE_ITEM.model_copy(update={"passage": None})
    source_level = score_item(no_passage, "Yes [1].", True, [], sources, 0.1)
    assert source_level.scores["recall_at_1"] == 1.0 and source_level.scores["mrr"] == 1.0
    assert source_level.passage_ranks == {}
    # Rank 6 is outside recall@5; not retrieved (or no ranks at all) is a miss everywhere.
    sixth = score_item(PASSAGE_ITEM, "Yes.", True, [], sources, 0.1, passage_ranks={"vector": 2, "final": 6})
    assert (sixth.scores["recall_at_1"], sixth.scores["recall_at_5"], sixth.scores["mrr"]) == (0.0, 0.0, pytest.approx(1 / 6))
    for ranks in ({"final": None}, {}, None):
        miss = score_item(PASSAGE_ITEM, "Yes.", True, [], sources, 0.1, passage_ranks=ranks)
        assert (miss.scores["recall_at_1"], miss.scores["recall_at_5"], miss.scores["mrr"]) == (0.0, 0.0, 0.0)
        assert miss.scores["source_recall_at_5"] == 1.0
    first = score_item(PASSAGE_ITEM, "Yes.", True, [], sources, 0.1, passage_ranks={"lexical": None, "final": 1})
    assert (first.scores["recall_at_1"], first.scores["mrr"]) == (1.0, 1.0)


def test_source_recall_at_5_is_source_level_for_every_answerable_item():
    missing = score_item(ITEMS[2], "£4,467", True, [], ["a", "b", "c", "d", "e", TABLE], 0.1)
    assert missing.scores["source_recall_at_5"] == 0.0 and missing.scores["recall_at_5"] == 0.0
    assert score_item(ITEMS[4], "no", False, [], [QA], 0.1).scores["source_recall_at_5"] is None


class RecordingAnswerer:
    """Records every call; retrieves RANKED for every question."""

    def __init__(self, standalone=True):
        self.asked, self.retrieved = [], []
        if standalone:
            self.standalone_question = self._standalone

    def _standalone(self, question, history):
        assert all(isinstance(m, Message) for m in history)
        return f"{history[-2].content} {question}"

    def ask(self, question, history=None, filters=None):
        self.asked.append((question, history))
        return Answer(answer="Schools subscribe to the values and guiding principles [1].", grounded=True,
                      citations=[Citation(n=1, source=QA, title="t", snippet="s")])

    def retrieve(self, question, filters=None):
        self.retrieved.append(question)
        return RANKED


FOLLOW_UP = EvalItem(id="qa-follow-up", kind="qa", question="and is it all or nothing?", reference="Yes.",
                     facts=["values and guiding principles"], sources=[QA], origin="hand-made",
                     history=[{"role": "user", "content": "What is the ELP core offer?"},
                              {"role": "assistant", "content": "The core offer is peer review [1]."}])


def test_runner_asks_with_history_and_retrieves_the_standalone_question():
    fake = RecordingAnswerer()
    run = evaluate(fake, [FOLLOW_UP, ITEMS[0]], name="recording")
    (q1, h1), (q2, h2) = fake.asked
    assert q1 == FOLLOW_UP.question and [(m.role, m.content) for m in h1] == [
        ("user", "What is the ELP core offer?"), ("assistant", "The core offer is peer review [1].")]
    assert q2 == ITEMS[0].question and h2 is None, "no history: history=None, as a first question"
    assert fake.retrieved == ["What is the ELP core offer? and is it all or nothing?", ITEMS[0].question]
    assert run.results[0].history == [{"role": "user", "content": "What is the ELP core offer?"},
                                      {"role": "assistant", "content": "The core offer is peer review [1]."}]
    # An answerer without standalone_question is retrieved on the question itself.
    plain = RecordingAnswerer(standalone=False)
    evaluate(plain, [FOLLOW_UP], name="plain")
    assert plain.retrieved == [FOLLOW_UP.question] and plain.asked[0][1] == FOLLOW_UP.history


def test_runner_without_a_trace_ranks_the_passage_in_the_final_retrieval():
    run = evaluate(RecordingAnswerer(), [PASSAGE_ITEM, ITEMS[0]], name="no-trace")
    with_passage, without = run.results
    assert with_passage.passage_ranks == {"final": 3} and without.passage_ranks == {}
    assert with_passage.scores["recall_at_1"] == 0.0 and with_passage.scores["mrr"] == pytest.approx(1 / 3)
    assert without.scores["recall_at_1"] == 1.0, "source-level: qa.txt is the first source"
    assert run.summary["overall"]["stage_recall_at_5"] == {"final": 1.0}


class TracingAnswerer(RecordingAnswerer):
    """Exposes the ranking after each retrieval stage; the last is the final one."""

    def __init__(self):
        super().__init__()
        self.traced = []

    def retrieval_trace(self, question, filters=None):
        self.traced.append(question)
        answering = RANKED[2]
        filler = [Document(page_content=f"filler {i}", metadata={"source": "other.txt"}) for i in range(8)]
        return {
            "lexical": filler[:6] + [answering],    # rank 7: outside the first 5
            "vector": [],                             # not retrieved at all
            "fused": filler[:1] + [answering],        # rank 2
            "final": [answering] + RANKED[:2],        # rank 1
        }


def test_stage_ranks_come_from_retrieval_trace():
    fake = TracingAnswerer()
    follow_up_with_passage = FOLLOW_UP.model_copy(update={"id": "qa-follow-up-passage", "passage": PASSAGE_ITEM.passage})
    run = evaluate(fake, [PASSAGE_ITEM, follow_up_with_passage, ITEMS[0]], name="tracing")
    first, follow, plain = run.results
    assert first.passage_ranks == {"lexical": 7, "vector": None, "fused": 2, "final": 1}
    assert list(first.passage_ranks) == ["lexical", "vector", "fused", "final"], "stage order is kept"
    assert first.scores["recall_at_1"] == 1.0 and first.scores["mrr"] == 1.0
    assert first.retrieved_sources == [QA, "other.txt"], "retrieved sources are the final stage's"
    assert fake.traced[1] == "What is the ELP core offer? and is it all or nothing?", "follow-ups: the standalone question"
    assert plain.passage_ranks == {}
    summary = run.summary["overall"]
    assert summary["stage_recall_at_5"] == {"lexical": 0.0, "vector": 0.0, "fused": 1.0, "final": 1.0}
    assert summary["recall_at_1"] == 1.0
    payload_item = run.to_dict()["items"][0]
    assert payload_item["passage_ranks"] == {"lexical": 7, "vector": None, "fused": 2, "final": 1}


def test_aggregate_by_split():
    test_item = ITEMS[2].model_copy(update={"split": "test"})
    results = [score_item(ITEMS[0], "nothing", True, [], [QA], 0.1),
               score_item(test_item, "£4,467", True, [], [TABLE], 0.1)]
    summary = aggregate(results)
    assert summary["by_split"]["dev"]["items"] == 1 and summary["by_split"]["dev"]["pass_rate"] == 0.0
    assert summary["by_split"]["test"]["items"] == 1 and summary["by_split"]["test"]["pass_rate"] == 1.0
    assert summary["overall"]["pass_rate"] == 0.5
    assert list(aggregate(results[:1])["by_split"]) == ["dev"]
    assert results[1].split == "test"
