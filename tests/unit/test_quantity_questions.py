"""A question asking for a quantity is answered only by a sentence that states one."""
import pytest

from assistant.answering import asks_quantity, gives_quantity


@pytest.mark.parametrize("question", [
    "How many schools are in each cluster?",
    "how much does a 2FE primary pay?",
    "What share of heads were clear about the board?",
    "whats BDSIP's day rate for a counsellor?",
    "What is the annual turnover of the company?",
])
def test_quantity_questions(question):
    assert asks_quantity(question)


@pytest.mark.parametrize("question", [
    "Can we just buy the bits of ELP we want?",
    "Who sits on the ELP board?",
    "Is the fee the same for small schools?",
    "What does the Hillingdon fee cover?",
])
def test_other_questions(question):
    assert not asks_quantity(question)


@pytest.mark.parametrize("sentence, gives", [
    ("Primary schools will join a cluster of nine or ten schools.", True),
    ("Schools pay 89p per pupil.", True),
    ("Only 22% said they were clear.", True),
    ("All schools pay the same fee.", True),
    ("Branwen Hywel, Headteacher, John Perryn Primary School", False),
    ("The partnership recruited a pool of counsellors whose time is bought by the day.", False),
])
def test_sentences_that_state_a_quantity(sentence, gives):
    assert gives_quantity(sentence) is gives
