"""The figures guard's reading of money: what an answer states, what a source supports."""
from decimal import Decimal

import pytest

from assistant.generative.figures import money_in, unsupported_figures


def test_money_is_read_in_the_ways_documents_and_models_write_it():
    text = "£6,566.20 a year, £4k per school, 89p per pupil, £3 million in all, 12 pounds, and 420 pupils"
    assert money_in(text) == [("£6,566.20", Decimal("6566.20")), ("£4k", Decimal("4000")), ("89p", Decimal("0.89")),
                              ("£3 million", Decimal("3000000")), ("12 pounds", Decimal("12"))]


@pytest.mark.parametrize("answer,sources,unsupported", [
    ("It is £6,566 [1].", ['{"subscription": 6566.2}'], []),  # the calculator's exact figure, rounded for display
    ("It is £5,411 [1].", ["£4,000 + £3.36 × 420 = £5,411.20"], []),
    ("SAfE charges 89p per pupil [1].", ["SAfE: 89p per pupil"], []),
    ("The council gives £571k [1].", ["a substantial financial commitment of £571k"], []),
    ("So a 500-pupil school pays £9,500 [1].", ["£19 per pupil"], ["£9,500"]),  # the model's own arithmetic
    ("It is £5,912, or £6,566.", ["6566.20"], ["£5,912"]),
])
def test_a_figure_stands_only_when_a_source_states_it(answer, sources, unsupported):
    assert unsupported_figures(answer, sources) == unsupported
