"""`Assistant.ask_stream` end to end: the real index, retrieval and calculator, the chat model replaced by the
scripted server streaming token by token over real HTTP (SSE chunks, as OpenAI does with stream=true)."""
from __future__ import annotations

import logging
import time

import pytest

from assistant.errors import QuestionError
from assistant.generative import FIGURES_NOTICE, NOTICE
from assistant.models import Answer
from tests.generative.scripted_server import contexts, first_sentence

QUESTION = "Is it all or nothing?"


def quote(n: int):
    return lambda body: f"{first_sentence(contexts(body)[n][1])} [{n}]"


def drain(items) -> tuple[list[str], Answer]:
    items = list(items)
    *deltas, final = items
    assert isinstance(final, Answer) and all(isinstance(d, str) for d in deltas)
    return deltas, final


def test_model_tokens_arrive_as_deltas_and_the_final_answer_is_what_ask_returns(make_assistant, chat_server):
    assistant = make_assistant()
    chat_server.compute(quote(2))
    deltas, final = drain(assistant.ask_stream(QUESTION))
    (body,) = chat_server.requests
    assert body["stream"] is True
    source, text = contexts(body)[2]
    raw = f"{first_sentence(text)} [2]"
    assert len(deltas) == len(raw.split()) > 3  # one delta per streamed word
    assert "".join(deltas) == raw  # what was streamed, before the citation check renumbered [2] → [1]
    assert final.answer == f"{first_sentence(text)} [1]" and [c.source for c in final.citations] == [source]
    chat_server.compute(quote(2))
    assert assistant.ask(QUESTION) == final  # ask is the same pipeline, not streamed
    assert "stream" not in chat_server.requests[-1] or chat_server.requests[-1]["stream"] is False


def test_a_figure_the_calculator_did_not_give_is_replaced_in_the_final_answer(make_assistant, chat_server, assistant, caplog):
    generative = make_assistant()
    question = "How much do Haringey schools pay?"
    invented = "Haringey schools pay £19 per pupil [1], so a 500-pupil school pays £9,000 [1]."
    chat_server.say(invented)  # skipped the tool and did its own sum
    with caplog.at_level(logging.WARNING):
        deltas, final = drain(generative.ask_stream(question))
    assert "".join(deltas) == invented  # streamed as the model wrote it ...
    extractive = assistant.ask(question)
    notice = FIGURES_NOTICE.format(source="is quoted directly from the documents")
    assert final.answer == f"{extractive.answer}\n\n{notice}" and "£9,000" not in final.answer  # ... replaced at the end
    assert final.citations == extractive.citations
    assert "unsupported figure(s) £9,000" in caplog.text


def test_a_stream_broken_off_mid_reply_falls_back_with_the_notice(make_assistant, chat_server, assistant):
    generative = make_assistant()
    chat_server.break_off("Yes, schools can choose the parts they want and pay for those parts only [1].", after=4)
    deltas, final = drain(generative.ask_stream(QUESTION))
    assert 0 < len(deltas) < 10 and chat_server.streams[0]["done"] is False
    assert final.answer == f"{assistant.ask(QUESTION).answer}\n\n{NOTICE}"


def test_closing_the_stream_stops_the_generation_at_the_model_server(make_assistant, chat_server):
    assistant = make_assistant()
    chat_server.token_delay = 0.02
    chat_server.say(" ".join(["word"] * 300) + " [1].")
    stream = assistant.ask_stream(QUESTION)
    assert isinstance(next(stream), str) and isinstance(next(stream), str)
    stream.close()  # the consumer went away
    deadline = time.monotonic() + 5
    while not chat_server.streams[0]["disconnected"] and time.monotonic() < deadline:
        time.sleep(0.02)
    record = chat_server.streams[0]
    assert record["disconnected"] and not record["done"] and record["chunks"] < record["total"] // 2


def test_thinking_is_not_streamed(make_assistant, chat_server):
    assistant = make_assistant()
    chat_server.compute(lambda body: f"<think>the user wants [9] and £1,000</think> {quote(1)(body)}")
    deltas, final = drain(assistant.ask_stream(QUESTION))
    assert "think" not in "".join(deltas) and "".join(deltas) == quote(1)(chat_server.requests[0])
    assert final.answer.endswith("[1]") and "£1,000" not in final.answer


def test_streamed_tool_call_round_trip(make_assistant, chat_server):
    from assistant.calculator import run_funding_calculator

    assistant = make_assistant()
    args = {"partnership": "ealing", "phase": "primary", "pupils": 420, "scenario": 1}
    chat_server.call_tool("funding_calculator", args)
    figure = run_funding_calculator(**args)["display"]["subscription"]
    chat_server.say(f"The subscription would be {figure} a year [1].")
    deltas, final = drain(assistant.ask_stream("Ealing: what is the bill for a 420 pupil primary, option one?"))
    assert figure in "".join(deltas) and figure in final.answer
    assert [c.name for c in final.tool_calls] == ["funding_calculator"]


def test_extractive_and_calculator_answers_are_one_delta(assistant):
    for question in (QUESTION, "What would a 420-pupil maintained primary pay to Ealing under scenario 2?"):
        deltas, final = drain(assistant.ask_stream(question))
        assert deltas == [final.answer] and final == assistant.ask(question)


def test_bad_questions_are_refused_at_the_call_before_any_stream(assistant):
    with pytest.raises(QuestionError, match="empty"):
        assistant.ask_stream("   ")
