"""The bundled evaluation dataset: schema, coverage of the brief, and every fact traceable to its source."""
from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from eval.metrics import fact_found
from eval.schema import DEFAULT_DATASET, DatasetError, load_dataset
from tests.support.paths import CORPUS

ITEMS = load_dataset(DEFAULT_DATASET, corpus_dir=CORPUS)
TEXTS = {p.name: p.read_text(encoding="utf-8") for p in CORPUS.iterdir() if p.suffix == ".txt"}


def test_size_and_kinds():
    kinds = Counter(i.kind for i in ITEMS)
    assert len(ITEMS) >= 60
    assert set(kinds) == {"qa", "fact", "calc", "decline"}
    assert kinds["decline"] >= 8


def test_every_expected_source_is_a_corpus_file():
    for it in ITEMS:
        for source in it.sources:
            assert source in TEXTS, (it.id, source)


def test_every_fact_occurs_in_one_of_its_sources_unless_computed():
    for it in ITEMS:
        if it.computed:
            continue
        for fact in it.facts:
            assert any(fact_found(fact, TEXTS[s]) for s in it.sources), f"{it.id}: {fact!r} not in {it.sources}"


def test_computed_figures_are_right():
    slides = TEXTS["hillingdon-partnership-review-slides-2021.txt"]
    core, additional = ["£29,500", "£20,500", "£20,000"], ["£49,200", "£35,000", "£44,100"]
    assert all(fact_found(f, slides) for f in core + additional)
    pounds = lambda figures: sum(int(f.strip("£").replace(",", "")) for f in figures)  # noqa: E731
    by_id = {i.id: i for i in ITEMS}
    assert by_id["calc-hillingdon-core-total"].facts == [f"£{pounds(core):,}"] == ["£70,000"]
    assert by_id["calc-hillingdon-additional-total"].facts == [f"£{pounds(additional):,}"] == ["£128,300"]
    assert by_id["calc-hillingdon-grand-total"].facts == [f"£{pounds(core + additional):,}"] == ["£198,300"]
    assert by_id["calc-haringey-420-pupils"].facts == [f"£{420 * 19:,}"]
    assert by_id["calc-safe-1000-pupils"].facts == [f"£{1000 * 89 // 100:,}"]
    assert all(i.kind == "calc" for i in ITEMS if i.computed)


def test_every_cell_of_the_elp_primary_table_is_asked():
    table = TEXTS["ealing-elp-prospectus-2018-19.txt"].split("Table of funding and subscription rates")[1]
    table = table.split("Ealing Learning Partnership")[0]
    cells = set(re.findall(r"\t(£[\d,]+)", table))  # cells follow a tab; rates in row labels do not
    asked = {f for i in ITEMS if i.id.startswith("calc-elp-") for f in i.facts}
    assert len(cells) == 32
    assert cells <= asked, cells - asked


def test_each_documented_pair_is_asked_verbatim_and_paraphrased():
    # the documented pairs of the original dev set (other qa items are free paraphrases without a twin)
    pairs = [i for i in ITEMS if i.kind == "qa" and i.id.endswith(("-verbatim", "-paraphrase"))]
    verbatim = {i.id.removesuffix("-verbatim") for i in pairs if i.variant == "verbatim"}
    paraphrased = {i.id.split("-paraphrase")[0] for i in pairs if i.variant == "paraphrase"}
    assert verbatim == paraphrased
    # 11 pairs on the Ealing briefings sheet, 9 in the ELP prospectus FAQ, 3 in the Hillingdon launch Q&A.
    per_source = Counter(i.sources[0] for i in pairs if i.variant == "verbatim")
    assert per_source == {"ealing-elp-qa-briefings-2017-11.txt": 11, "ealing-elp-prospectus-2018-19.txt": 9,
                          "hillingdon-hlp-invitation-to-join.txt": 3}
    for it in pairs:
        if it.variant == "verbatim":
            assert " ".join(it.question.split()) in " ".join(TEXTS[it.sources[0]].split()), it.id
    for it in pairs:
        if it.variant == "paraphrase":
            twin = next(p for p in pairs if p.id == it.id.split("-paraphrase")[0] + "-verbatim")
            assert it.question.lower() != twin.question.lower()


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_schema_errors_are_listed_with_item_ids(tmp_path):
    path = write(tmp_path, "bad.yaml", """
items:
  - {id: ok-1, kind: qa, question: "Q?", reference: R, facts: [x], sources: [a.txt], origin: o}
  - {id: ok-1, kind: qa, question: "Q?", reference: R, facts: [x], sources: [a.txt], origin: o}
  - {id: no-sources, kind: fact, question: "Q?", reference: R, facts: [x], origin: o}
  - {id: bad-regex, kind: calc, question: "Q?", reference: R, facts: ["re:(£"], sources: [a.txt], origin: o}
  - {id: decline-with-facts, kind: decline, question: "Q?", reference: R, facts: [x], origin: o}
  - {id: typo, kind: qa, question: "Q?", reference: R, facts: [x], sources: [a.txt], origin: o, soruces: []}
  - {id: wrong-kind, kind: trivia, question: "Q?", reference: R, origin: o}
  - {kind: qa, question: "", reference: R, facts: [x], sources: [a.txt], origin: o}
""")
    with pytest.raises(DatasetError) as caught:
        load_dataset(path)
    text = "\n".join(caught.value.problems)
    assert "ok-1: duplicate id" in text
    assert "no-sources:" in text and "at least one expected source" in text
    assert "bad-regex:" in text and "not a valid regular expression" in text
    assert "decline-with-facts:" in text
    assert "typo: soruces" in text
    assert "wrong-kind: kind" in text
    assert "item #8: id" in text and "item #8: question" in text
    assert len(caught.value.problems) >= 8


def test_missing_sources_unknown_suffix_and_broken_files(tmp_path):
    good = '{"id": "a", "kind": "fact", "question": "Q?", "reference": "R", "facts": ["x"], "sources": ["nope.txt"], "origin": "o"}'
    with pytest.raises(DatasetError, match="a: source 'nope.txt' is not a file"):
        load_dataset(write(tmp_path, "d.jsonl", good + "\n"), corpus_dir=CORPUS)
    with pytest.raises(DatasetError, match="line 2: not valid JSON"):
        load_dataset(write(tmp_path, "e.jsonl", good + "\n{oops\n"))
    with pytest.raises(DatasetError, match="use .yaml, .yml or .jsonl"):
        load_dataset(write(tmp_path, "d.csv", "id,kind\n"))
    with pytest.raises(DatasetError, match="not valid YAML"):
        load_dataset(write(tmp_path, "f.yaml", "items: [unclosed"))
    with pytest.raises(DatasetError, match="file not found"):
        load_dataset(tmp_path / "missing.yaml")
    with pytest.raises(DatasetError, match="no items"):
        load_dataset(write(tmp_path, "g.yaml", "items: []\n"))


def test_jsonl_and_yaml_load_the_same_items(tmp_path):
    lines = "\n".join(json.dumps(i.model_dump(exclude_defaults=True)) for i in ITEMS[:5])
    assert load_dataset(write(tmp_path, "same.jsonl", lines)) == ITEMS[:5]


# -- split, history and passage ------------------------------------------------------------------------
def test_bundled_items_default_to_dev_and_passages_never_on_declines():
    assert all(i.split in ("dev", "test") for i in ITEMS)
    assert all(i.passage is None for i in ITEMS if i.kind == "decline")


def test_split_history_and_passage_fields(tmp_path):
    path = write(tmp_path, "new.yaml", """
items:
  - {id: plain, kind: qa, question: "Is it all or nothing?", reference: R, facts: ["values and guiding principles"],
     sources: [ealing-elp-qa-briefings-2017-11.txt], origin: o}
  - id: follow-up
    kind: qa
    split: test
    question: "and is it all or nothing?"
    history:
      - {role: user, content: "Tell me about the Ealing Learning Partnership"}
      - {role: assistant, content: "It is a partnership of Ealing schools [1]."}
    reference: R
    facts: ["values and guiding principles"]
    passage: "Schools need to decide if they   subscribe to the VALUES and guiding principles"
    sources: [ealing-elp-qa-briefings-2017-11.txt]
    origin: o
""")
    plain, follow = load_dataset(path, corpus_dir=CORPUS)
    assert plain.split == "dev" and plain.history is None and plain.passage is None
    assert follow.split == "test"
    assert [(t.role, t.content) for t in follow.history] == [
        ("user", "Tell me about the Ealing Learning Partnership"),
        ("assistant", "It is a partnership of Ealing schools [1]."),
    ]
    from assistant.models import Message

    assert all(isinstance(t, Message) for t in follow.history), "Assistant.ask takes the turns as they are"
    # Defaults are left out of a dump, so an item written back looks as it was typed.
    assert "split" not in plain.model_dump(exclude_defaults=True)


def test_bad_split_role_passages_and_facts_are_listed_with_item_ids(tmp_path):
    path = write(tmp_path, "bad.yaml", """
items:
  - {id: bad-split, kind: qa, split: train, question: "Q?", reference: R, facts: ["yes"],
     sources: [ealing-elp-qa-briefings-2017-11.txt], origin: o}
  - {id: bad-role, kind: qa, question: "Q?", reference: R, facts: ["yes"], sources: [ealing-elp-qa-briefings-2017-11.txt],
     origin: o, history: [{role: user, content: "hi"}, {role: system, content: "be brief"}]}
  - {id: bad-turn, kind: qa, question: "Q?", reference: R, facts: ["yes"], sources: [ealing-elp-qa-briefings-2017-11.txt],
     origin: o, history: [{role: user, text: "hi"}]}
  - {id: passage-elsewhere, kind: qa, question: "Q?", reference: R, facts: ["yes"],
     passage: "Any surplus generated from traded services", sources: [ealing-elp-qa-briefings-2017-11.txt], origin: o}
  - {id: passage-invented, kind: qa, question: "Q?", reference: R, facts: ["yes"],
     passage: "schools need to decide nothing at all", sources: [ealing-elp-qa-briefings-2017-11.txt], origin: o}
  - {id: decline-with-passage, kind: decline, question: "Q?", reference: R, origin: o, passage: "anything"}
  - {id: fact-not-in-source, kind: fact, question: "Q?", reference: R, facts: ["values and guiding principles", "£999,999"],
     sources: [ealing-elp-qa-briefings-2017-11.txt], origin: o}
  - {id: computed-ok, kind: calc, computed: true, question: "Q?", reference: R, facts: ["£999,999"],
     sources: [ealing-elp-qa-briefings-2017-11.txt], origin: o}
  - {id: blank-passage, kind: qa, question: "Q?", reference: R, facts: ["yes"], passage: "  ",
     sources: [ealing-elp-qa-briefings-2017-11.txt], origin: o}
""")
    with pytest.raises(DatasetError) as caught:
        load_dataset(path, corpus_dir=CORPUS)
    problems = caught.value.problems
    text = "\n".join(problems)
    assert "bad-split: split" in text and "'dev' or 'test'" in text
    assert "bad-role: history.1.role" in text and "'user' or 'assistant'" in text
    assert "bad-turn: history.0.content" in text and "bad-turn: history.0.text" in text
    assert any(p.startswith("passage-invented: passage 'schools need to decide nothing at all' does not occur in "
                            "ealing-elp-qa-briefings-2017-11.txt") for p in problems)
    assert "passage-elsewhere: passage" in text, "a passage of the prospectus is not in this item's source"
    assert "decline-with-passage:" in text and "decline items have no passage" in text
    assert "fact-not-in-source: fact '£999,999' does not occur" in text
    assert "fact-not-in-source: fact 'values and guiding principles'" not in text
    assert "computed-ok" not in text, "computed figures are not looked for in the source"
    assert "blank-passage: passage" in text
    # Without a corpus folder the text checks cannot run; the schema checks still do.
    with pytest.raises(DatasetError) as schema_only:
        load_dataset(path)
    assert not any("does not occur" in p for p in schema_only.value.problems)
    assert any(p.startswith("bad-role:") for p in schema_only.value.problems)


def test_passages_are_matched_as_facts_are(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "doc.txt").write_text("The fee is “£3.36”\nper pupil — agreed by Heads’ Forum.", encoding="utf-8")
    path = write(tmp_path, "d.yaml", """
items:
  - {id: quoted, kind: fact, question: "Q?", reference: R, facts: ["£3.36"], sources: [doc.txt], origin: o,
     passage: "the fee is \\"£3.36\\" per pupil - agreed by heads' forum"}
""")
    assert load_dataset(path, corpus_dir=corpus)[0].passage.startswith("the fee")
