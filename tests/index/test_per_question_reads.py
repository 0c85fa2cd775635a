"""What one warm question reads from the store: the index freshness check once (retrieval and the evidence
checks share its snapshot) — the generation marker, and the commit records only when it changed or the last
full check is FULL_CHECK_S old — and document titles only for a calculation that cites them."""
from __future__ import annotations

import pytest

from tests.support.counting import count_calls


@pytest.fixture
def counted(assistant, monkeypatch):
    return count_calls(monkeypatch, assistant.store, ("commit_count", "marker", "titles", "generation"))


def test_a_document_question_checks_the_index_once_and_reads_no_titles(assistant, counted, monkeypatch):
    monkeypatch.setattr("assistant.retrieval.FULL_CHECK_S", 600.0)
    assistant.ask("What is SAfE?")  # the records read (at most) once here…
    answer = assistant.ask("Is membership of the Ealing Learning Partnership all or nothing?")
    assert answer.grounded
    # …and not again: the marker is unchanged. Never a COUNT of the chunks.
    assert counted["generation"] == 2 and counted["commit_count"] <= 1 and counted["marker"] == counted["titles"] == 0


def test_each_question_checks_the_index_again(assistant, counted):
    assistant.ask("What is SAfE?")
    assistant.store.bump_generation()  # what a re-ingest (here or in another process) does after committing
    assistant.ask("Who sits on the ELP board?")
    assert counted["generation"] == 2 and counted["commit_count"] >= 1  # the change is seen at the next question


def test_a_calculation_reads_the_titles_it_cites(assistant, counted):
    answer = assistant.ask("What would a 420-pupil maintained primary pay for ELP under scenario 2?")
    assert answer.calculation is not None
    assert counted["titles"] == 1
    titles = {d["source"]: d["title"] for d in assistant.documents()}
    assert answer.citations and all(c.title == titles.get(c.source, c.source) for c in answer.citations)
    assert any(c.title != c.source for c in answer.citations)


def test_part_vectors_of_a_chunk_are_read_from_the_store_once(assistant, monkeypatch):
    reads: list[list[str]] = []
    monkeypatch.setattr(assistant.retriever.query_embedder, "_parts_read", {})  # as in a fresh process
    original = assistant.store.part_vectors
    monkeypatch.setattr(assistant.store, "part_vectors", lambda ids: reads.append(list(ids)) or original(ids))
    question = "Why is ELP only for one year?"
    first = assistant.ask(question)
    again = assistant.ask(question + " Thanks")  # a new question vector, the same chunks retrieved
    assert first.answer == again.answer
    read = [cid for batch in reads for cid in batch]
    assert read and len(read) == len(set(read)), "each chunk's parts read at most once"
    assert not reads[1:] or set(reads[-1]).isdisjoint(reads[0])
