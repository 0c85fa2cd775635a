"""Retrieval recall on the real corpus: the expected source is among the top 5 chunks."""
from __future__ import annotations

import pytest

from assistant.models import Filters

QA = "ealing-elp-qa-briefings-2017-11.txt"
PROSPECTUS = "ealing-elp-prospectus-2018-19.txt"
LETTER = "hillingdon-hlp-invitation-to-join.txt"
SLIDES = "hillingdon-partnership-review-slides-2021.txt"
BOOKLET = "aepa-learning-locally-london-partnerships.txt"

CASES = [
    ("Can we just buy the bits of ELP we want?", QA),
    ("Why is ELP only for one year?", QA),
    ("What happens if too few schools buy into ELP?", QA),
    ("Are nurseries included in the partnership?", QA),
    ("How will you know if ELP has worked?", QA),
    ("I'm an academy. Why would I join ELP?", PROSPECTUS),
    ("We have no budget, how would we pay for ELP?", PROSPECTUS),
    ("How was the £13.76 per pupil worked out?", PROSPECTUS),
    ("What is the per pupil rate under scenario 2 for primaries?", PROSPECTUS),
    ("Who sits on the Ealing interim partnership board?", PROSPECTUS),
    ("How much is de-delegated from maintained primaries?", PROSPECTUS),
    ("What governor support does ELP provide?", PROSPECTUS),
    ("Will all schools in Hillingdon pay the same fee?", LETTER),
    ("Is there a discount for federations or trusts?", LETTER),
    ("How will support from lead schools be delivered?", LETTER),
    ("When is the deadline to commit to joining the Hillingdon Learning Partnership?", LETTER),
    ("What does SAfE charge per pupil?", SLIDES),
    ("What does Harrow Collegiate charge a primary school?", SLIDES),
    ("What are the funding options for the Hillingdon partnership?", SLIDES),
    ("How much would an independent chair cost?", SLIDES),
    ("What are the nine conditions for effective local education partnerships?", SLIDES),
    ("Who owns Barking and Dagenham School Improvement Partnership?", BOOKLET),
    ("How much do Haringey schools pay per pupil?", BOOKLET),
    ("What is Lewisham Learning?", BOOKLET),
    ("What is the annual turnover of BDSIP?", BOOKLET),
    ("What are the five sources of funding for partnerships?", BOOKLET),
]


@pytest.mark.parametrize("question,source", CASES, ids=[c[0][:40] for c in CASES])
def test_expected_source_in_top_5(assistant, question, source):
    hits = assistant.retrieve(question)
    assert source in [h.metadata["source"] for h in hits[:5]]


def test_exact_figures_and_acronyms_are_found_by_bm25(assistant):
    for term in ("£3.36", "SAfE", "89p", "£13.76"):
        hits = assistant.retrieve(term)
        assert any(term.lower() in h.page_content.lower() for h in hits[:3]), term


def test_filter_by_partnership_keeps_only_that_partnership(assistant):
    hits = assistant.retrieve("How much do schools pay per pupil?", Filters(partnership="Haringey"))
    assert hits
    for h in hits:
        assert "haringey" in f"{h.metadata['partnership']} {h.metadata['partnerships']}".lower()


def test_filter_by_kind(assistant):
    hits = assistant.retrieve("peer review", Filters(kind="qa_sheet"))
    assert hits and {h.metadata["kind"] for h in hits} == {"qa_sheet"}


def test_scores_are_attached(assistant):
    (top, *_) = assistant.retrieve("What does SAfE charge per pupil?")
    assert top.metadata["fused"] > 0 and "dense" in top.metadata and "bm25" in top.metadata
