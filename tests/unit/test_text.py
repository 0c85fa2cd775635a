"""Tokenising for BM25: figures and acronyms stay findable, and stemming is safe under threads."""
from concurrent.futures import ThreadPoolExecutor

from assistant.text import query_tokens, sentences, singular_acronyms, stem, tokens


def test_money_and_acronyms_are_tokens():
    toks = tokens("SAfE charges 89p; ELP £13.76 and £1,142,000")
    assert {"#safe", "89p", "£13.76", "13.76", "#elp", "£1142000"} <= set(toks)


def test_mixed_case_acronym_counts_only_in_marked_form_in_queries():
    assert "safe" not in query_tokens("What does SAfE charge?")
    assert "#safe" in query_tokens("What does SAfE charge?")


def test_sentences_split_lines_and_sentences():
    assert sentences("One thing. Two things.\n- a bullet point") == ["One thing.", "Two things.", "a bullet point"]


def test_stemming_is_consistent_across_threads():
    words = ["subscriptions", "charging", "partnerships", "governors", "schools"] * 400
    expected = [stem.__wrapped__(w) for w in words]
    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(stem.__wrapped__, words))
    assert got == expected


def test_a_plural_initialism_is_the_initialism():
    # "NQTs" must find a passage about the NQT programme, and vice versa.
    assert set(tokens("our NQTs")) >= {"#nqt", "nqt"}
    assert "#nqts" not in tokens("our NQTs") and "nqts" not in tokens("our NQTs")
    assert set(tokens("NQT induction")) & set(tokens("NQTs")) == {"#nqt", "nqt"}
    # Only initialisms: ordinary capitalised words and mixed-case names are untouched.
    assert singular_acronyms("Heads, News, SAfE, PRUs") == "Heads, News, SAfE, PRU"


def test_periods_are_read_as_years_not_as_other_numbers():
    from assistant.text import periods, years_mentioned

    assert periods("What are the ELP rates for 2019-20?") == {"2019-20": (2019, 2020)}
    assert periods("from 2019 to 2020, then in 2023?") == {"2019 to 2020": (2019, 2020), "2023": (2023, 2023)}
    assert periods("Sept 2022") == {"2022": (2022, 2022)}
    # pupil counts and money are not years
    assert periods("a school with 2000 pupils pays £2019 for 2000 students") == {}
    assert years_mentioned("second phase 2018-2020") == {2018, 2019, 2020}
