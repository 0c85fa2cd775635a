"""The domain glossary: groups of equivalent terms loaded from YAML and applied to a question's tokens."""
from __future__ import annotations

from pathlib import Path

import pytest

from assistant.glossary import Glossary, GlossaryError
from assistant.text import tokens

BUNDLED = Path(__file__).resolve().parents[2] / "corpus" / "glossary.yaml"


def test_a_term_brings_in_the_other_terms_of_its_group():
    glossary = Glossary.from_groups([["LA", "local authority", "council"], ["CPD", "training"]])
    related = glossary.related(tokens("What does our LA pay for?"))
    assert {"local", "author", "council"} <= set(related)
    assert "train" not in related
    # a phrase counts only when all its words are there
    assert "council" in glossary.related(tokens("the local authority"))
    assert glossary.related(tokens("a local shop")) == []


def test_words_already_asked_are_not_repeated():
    glossary = Glossary.from_groups([["fee", "cost", "charge"]])
    assert sorted(glossary.related(tokens("fee and cost"))) == ["charg"]


def test_the_bundled_glossary_loads_and_bridges_sector_words():
    glossary = Glossary.load(BUNDLED)
    assert len(glossary.groups) >= 20
    assert "headteach" in glossary.related(tokens("our head"))
    assert "ect" in glossary.related(tokens("NQT support"))


def test_a_missing_file_is_an_empty_glossary(tmp_path):
    assert Glossary.load(tmp_path / "none.yaml").groups == ()


@pytest.mark.parametrize("text,message", [
    ("groups: [unclosed", "not valid YAML"),
    ("groups: [[only-one]]", "two or more terms"),
    ("words: [a, b]", "groups:"),
])
def test_a_malformed_glossary_is_refused_naming_the_file(tmp_path, text, message):
    path = tmp_path / "glossary.yaml"
    path.write_text(text)
    with pytest.raises(GlossaryError, match=message) as info:
        Glossary.load(path)
    assert str(path) in str(info.value)


def test_a_sector_term_is_vocabulary_not_a_name():
    """"SBM asking…" must not require a passage naming "SBM", and "a new SENCO" is asked about SENCOs."""
    from assistant.answering import focus_tokens
    from assistant.evidence import Evidence

    glossary = Glossary.from_groups([["SBM", "school business manager"], ["SENCO", "SENCo", "special needs coordinator"]])
    assert glossary.knows("SBM") and glossary.knows("SENCo") and glossary.knows("school business manager")
    assert not glossary.knows("Hillingdon") and not glossary.knows("business")

    evidence = Evidence(lexical=None, glossary=glossary, decline_threshold=0.3)
    assert evidence.required_names("SBM asking - when do Hillingdon invoices go out?") == [frozenset({"hillingdon"})]
    assert "senco" in focus_tokens("We have a brand new SENCO, what's there for them?", glossary)
    assert "hillingdon" not in focus_tokens("What does Hillingdon charge?", glossary)


def test_a_plural_sector_term_is_vocabulary_too():
    glossary = Glossary.from_groups([["NQT", "ECT", "newly qualified teacher"]])
    assert glossary.knows("NQTs") and glossary.knows("ECTs")
