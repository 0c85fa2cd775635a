"""GenerativeBackend against the scripted server over real HTTP, with chunks taken from the corpus files,
composed with the extractive backend as the factory composes them (`WithFallback`).

Failures of the endpoint (refused, timeout, 5xx, malformed tool calls, empty replies) must all end in the
extractive answer of the same turn plus the notice, never an exception.
"""
from __future__ import annotations

import logging
import socket
import time

import pytest
from langchain_core.documents import Document

from assistant.answering import ExtractiveAnswerer, decline
from assistant.backends import NOTHING_ANSWERS, BackendFailure, ExtractiveBackend, Turn, WithFallback
from assistant.config import Settings
from assistant.generative import NOTICE, GenerativeBackend, build_chat_model
from assistant.models import Message
from assistant.retrieval import QueryEmbedder
from tests.support.paths import CORPUS
from tests.generative.scripted_server import contexts, first_sentence

QA_FILE = "ealing-elp-qa-briefings-2017-11.txt"


@pytest.fixture(scope="module")
def corpus_hits() -> list[Document]:
    """The first five chunks of the ELP Q&A sheet, as the real loader and chunker produce them."""
    from ingest.chunking import chunk_pages
    from ingest.loaders import load_pages
    from ingest.metadata import doc_meta_for, load_corpus_metadata

    path = CORPUS / QA_FILE
    return chunk_pages(load_pages(path), doc_meta_for(path, load_corpus_metadata(CORPUS)))[:5]


@pytest.fixture(scope="module")
def extractive(embeddings) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(QueryEmbedder(embeddings))


@pytest.fixture
def make_backend(chat_server, extractive):
    def make(url: str | None = None, timeout: float = 5.0, **kwargs) -> WithFallback:
        settings = Settings(llm_base_url=url or chat_server.url, llm_model="scripted", llm_timeout=timeout)
        kwargs.setdefault("cooldown", settings.llm_cooldown_seconds)
        model = GenerativeBackend(build_chat_model(settings), name="scripted", **kwargs)
        return WithFallback(model, ExtractiveBackend(extractive))

    return make


def turn(question: str, hits: list[Document], history: list[Message] = ()) -> Turn:
    return Turn(question=question, standalone=question, history=list(history), hits=hits)


def assert_fallback(answer, extractive, question, hits):
    """The extractive answer plus the notice (or, when no sentence answers, the decline with closest sources)."""
    expected = extractive.answer(question, hits) or decline(hits, NOTHING_ANSWERS)
    assert answer.answer == f"{expected.answer}\n\n{NOTICE}"
    assert answer.citations == expected.citations and answer.grounded == expected.grounded
    assert answer.tool_calls == []


def test_answer_quotes_the_context_it_was_sent(make_backend, chat_server, corpus_hits):
    chat_server.compute(lambda body: f"{first_sentence(contexts(body)[3][1].split('A: ', 1)[1])} [3]")
    answer = make_backend().answer(turn("Is it all or nothing?", corpus_hits, []))
    chunk = corpus_hits[2].page_content.split("A: ", 1)[1]
    assert answer.answer == f"{first_sentence(chunk)} [1]"
    assert [c.snippet[:40] for c in answer.citations] == [corpus_hits[2].page_content[:40]]
    assert answer.grounded and len(chat_server.requests) == 1
    assert chat_server.paths == ["/v1/chat/completions"] and chat_server.requests[0]["model"] == "scripted"
    assert "tools" not in chat_server.requests[0], "no tools were bound"


def test_reasoning_blocks_are_not_shown(make_backend, chat_server, corpus_hits):
    chat_server.say("<think>The user wants [7] maybe.</think>\nYes, it is all or nothing [1].")
    answer = make_backend().answer(turn("Is it all or nothing?", corpus_hits, []))
    assert answer.answer == "Yes, it is all or nothing [1]."


def test_http_500_falls_back_to_the_extractive_answer(make_backend, chat_server, corpus_hits, extractive, caplog):
    chat_server.fail(500)
    with caplog.at_level(logging.WARNING, logger="assistant.generative.backend"):
        answer = make_backend().answer(turn("Is it all or nothing?", corpus_hits, []))
    assert_fallback(answer, extractive, "Is it all or nothing?", corpus_hits)
    assert "HTTP 500" in caplog.text


def test_fallback_says_so_when_there_is_nothing_to_quote(make_backend, chat_server):
    chat_server.fail(502)
    answer = make_backend().answer(turn("Is it all or nothing?", [], []))
    assert answer.answer == f"{decline([], NOTHING_ANSWERS).answer}\n\n{NOTICE}"
    assert not answer.grounded and answer.citations == []


def test_timeout_falls_back_then_skips_the_model_while_cooling_down(make_backend, chat_server, corpus_hits, extractive):
    backend = make_backend(timeout=1.0)
    chat_server.stall()
    started = time.monotonic()
    answer = backend.answer(turn("Why is ELP only for one year?", corpus_hits, []))
    assert time.monotonic() - started < 8
    assert_fallback(answer, extractive, "Why is ELP only for one year?", corpus_hits)
    # Within the cooldown neither the rewrite nor the answer waits for the dead endpoint again.
    history = [Message(role="user", content="Is it all or nothing?")]
    assert backend.rewrite("and why one year?", history) is None
    assert_fallback(backend.answer(turn("Why is ELP only for one year?", corpus_hits, history)), extractive, "Why is ELP only for one year?", corpus_hits)
    assert len(chat_server.requests) == 1


def test_connection_refused_falls_back(make_backend, corpus_hits, extractive):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = make_backend(url=f"http://127.0.0.1:{port}/v1")
    assert_fallback(backend.answer(turn("Is it all or nothing?", corpus_hits, [])), extractive, "Is it all or nothing?", corpus_hits)


@pytest.mark.parametrize("reply", ["unknown tool", "bad json", "empty"])
def test_unusable_replies_fall_back(make_backend, chat_server, corpus_hits, extractive, reply):
    if reply == "unknown tool":
        chat_server.call_tool("delete_everything", {})
    elif reply == "bad json":
        chat_server.call_tool("delete_everything", '{"pupils": 420,')
    else:
        chat_server.say("   ")
    answer = make_backend().answer(turn("Is it all or nothing?", corpus_hits, []))
    assert_fallback(answer, extractive, "Is it all or nothing?", corpus_hits)


def test_rewrite_uses_the_model_and_keeps_one_line(make_backend, chat_server):
    chat_server.say('Standalone question: "What do secondary schools pay to join ELP?"\nExtra chatter.')
    history = [Message(role="user", content="What do primary schools pay to join ELP?"), Message(role="assistant", content="£4k per school [1].")]
    assert make_backend().rewrite("And secondaries?", history) == "What do secondary schools pay to join ELP?"
    (body,) = chat_server.requests
    assert "What do primary schools pay to join ELP?" in body["messages"][1]["content"]


def test_rewrite_failure_returns_none_so_the_heuristic_applies(make_backend, chat_server):
    chat_server.fail(503)
    history = [Message(role="user", content="What do primary schools pay to join ELP?")]
    assert make_backend().rewrite("And secondaries?", history) is None
    assert make_backend().rewrite("And secondaries?", []) is None  # nothing to rewrite against: no request
    assert len(chat_server.requests) == 1


def test_the_model_alone_raises_a_named_failure(chat_server, corpus_hits):
    settings = Settings(llm_base_url=chat_server.url, llm_model="scripted")
    chat_server.fail(500)
    with pytest.raises(BackendFailure, match="HTTP 500") as failure:
        GenerativeBackend(build_chat_model(settings), name="scripted", cooldown=0).answer(turn("Is it all or nothing?", corpus_hits))
    assert failure.value.notice == NOTICE and failure.value.replacement is None


def test_the_fallback_answers_the_same_standalone_turn(make_backend, chat_server, corpus_hits, extractive):
    chat_server.fail(500)
    follow_up = Turn(question="and is it?", standalone="Is it all or nothing?", hits=corpus_hits,
                     history=[Message(role="user", content="Is it all or nothing?")])
    answer = make_backend().answer(follow_up)
    assert_fallback(answer, extractive, "Is it all or nothing?", corpus_hits)
