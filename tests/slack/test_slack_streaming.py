"""Generative answers streamed into the thread (chat.startStream / appendStream / stopStream) by the real bolt
app behind /slack/events, the chat model being the scripted server streaming token by token; the fallback to
one chat.postMessage when Slack refuses to stream."""
from __future__ import annotations

import pytest
from conftest import CHANNEL, HEAD
from slack_mock import TEAM_ID, THUMBS_DOWN, THUMBS_UP, block_text, buttons

from assistant.config import Settings
from assistant.generative import FIGURES_NOTICE
from tests.generative.scripted_server import ScriptedChatServer, contexts

TIMEOUT = 120
QUESTION = "Is it all or nothing?"


def long_quote(body: dict) -> str:
    """Context 1 quoted at length (several Slack calls' worth), cited [1]: nothing for the checks to change."""
    return f"{' '.join(contexts(body)[1][1].split()[:60])} [1]"


@pytest.fixture(scope="module")
def scripted():
    server = ScriptedChatServer().start()
    yield server
    server.stop()


@pytest.fixture
def model(scripted):
    scripted.script.clear()
    scripted.requests.clear()
    scripted.streams.clear()
    scripted.token_delay = 0.0
    return scripted


@pytest.fixture(scope="module")
def generative_assistant(indexed_settings, embeddings, scripted):
    from assistant.factory import build_assistant

    settings = Settings(data_dir=indexed_settings.data_dir, llm_base_url=scripted.url, llm_model="scripted")
    return build_assistant(settings, embeddings=embeddings)


@pytest.fixture
def generative_slack(slack_endpoint, generative_assistant, model):
    return slack_endpoint(generative_assistant)


def test_a_generative_answer_is_streamed_into_the_thread_ending_with_sources_and_feedback(generative_slack, model):
    model.compute(long_quote)
    model.token_delay = 0.005
    message, response = generative_slack.mention(QUESTION)
    assert response.status_code == 200
    mock = generative_slack.mock
    (stop,) = mock.wait_for("chat.stopStream", timeout=TIMEOUT)
    mock.settle()
    (start,) = mock.of("chat.startStream")
    appends = mock.of("chat.appendStream")
    assert start["channel"] == CHANNEL and start["thread_ts"] == message["ts"]
    assert start["recipient_user_id"] == HEAD and start["recipient_team_id"] == TEAM_ID
    assert len(appends) >= 1 and {a["ts"] for a in appends} == {stop["ts"]}
    assert mock.of("chat.postMessage") == [] and mock.of("chat.update") == []
    stored = next(m for m in mock.messages[CHANNEL] if m["ts"] == stop["ts"])
    assert stored["thread_ts"] == message["ts"] and not stored["streaming"]
    assert stored["text"] == long_quote(model.requests[-1])  # streamed text = the final answer
    assert block_text(stop["blocks"]).startswith("*Sources*\n[1] ")
    assert set(buttons(stop["blocks"])) == {THUMBS_UP, THUMBS_DOWN}
    methods = [c.method for c in mock.calls]
    assert methods.index("reactions.add") < methods.index("chat.startStream") < methods.index("reactions.remove")


def test_when_streaming_is_refused_the_answer_is_one_post_message(generative_slack, model):
    model.compute(long_quote)
    mock = generative_slack.mock
    mock.errors["chat.startStream"] = "not_allowed"
    message, _ = generative_slack.mention(QUESTION)
    (post,) = mock.wait_for("chat.postMessage", timeout=TIMEOUT)
    mock.settle()
    assert len(mock.of("chat.startStream")) == 1  # tried once, refused
    assert mock.of("chat.appendStream") == [] and mock.of("chat.stopStream") == []
    assert post["thread_ts"] == message["ts"]
    assert long_quote(model.requests[-1]) in block_text(post["blocks"])
    assert set(buttons(post["blocks"])) == {THUMBS_UP, THUMBS_DOWN} and "Sources: [1]" in post["text"]


def test_an_answer_the_figures_guard_replaces_is_updated_to_the_final_answer(generative_slack, model):
    invented = ("Haringey schools pay £19 per pupil [1], so a 500-pupil school pays £9,000 a year [1], "
                "which covers every service the partnership offers its member schools.")
    model.say(invented)
    mock = generative_slack.mock
    message, _ = generative_slack.mention("How much do Haringey schools pay?")
    (update,) = mock.wait_for("chat.update", timeout=TIMEOUT)
    (stop,) = mock.of("chat.stopStream")
    assert update["ts"] == stop["ts"]
    text = block_text(update["blocks"])
    assert "£9,000" not in text and FIGURES_NOTICE.format(source="is quoted directly from the documents") in text
    assert set(buttons(update["blocks"])) == {THUMBS_UP, THUMBS_DOWN}


def test_extractive_answers_are_still_posted_at_once(slack):
    message, _ = slack.mention(QUESTION)
    (post,) = slack.mock.wait_for("chat.postMessage", timeout=TIMEOUT)
    slack.mock.settle()
    assert post["thread_ts"] == message["ts"] and slack.mock.of("chat.startStream") == []


def test_in_an_assistant_thread_a_generative_answer_is_streamed_between_status_and_clear(generative_slack, model):
    from integrations.slack.assistant_thread import SEARCHING

    model.compute(long_quote)
    model.token_delay = 0.005
    mock, dm = generative_slack.mock, "D0ASSIST2"
    thread_ts = mock.next_ts()
    generative_slack.event({"type": "assistant_thread_started", "event_ts": thread_ts,
                            "assistant_thread": {"user_id": HEAD, "channel_id": dm, "thread_ts": thread_ts,
                                                 "context": {}}})
    mock.wait_for("assistant.threads.setSuggestedPrompts", timeout=30)
    generative_slack.message(QUESTION, channel=dm, channel_type="im", thread_ts=thread_ts)
    (stop,) = mock.wait_for("chat.stopStream", timeout=TIMEOUT)
    statuses = mock.wait_for("assistant.threads.setStatus", count=2, timeout=30)
    (start,) = mock.of("chat.startStream")
    assert start["channel"] == dm and start["thread_ts"] == thread_ts and start["recipient_user_id"] == HEAD
    assert [s["status"] for s in statuses] == [SEARCHING, ""]
    methods = [c.method for c in mock.calls]
    assert methods.index("assistant.threads.setStatus") < methods.index("chat.startStream")
    assert methods.index("chat.stopStream") < len(methods) - 1 - methods[::-1].index("assistant.threads.setStatus")
    stored = next(m for m in mock.messages[dm] if m["ts"] == stop["ts"])
    assert stored["text"] == long_quote(model.requests[-1])
    assert set(buttons(stop["blocks"])) == {THUMBS_UP, THUMBS_DOWN}


def test_a_stream_that_breaks_after_it_started_is_replaced_by_the_finished_answer(generative_slack, model):
    model.compute(long_quote)
    model.token_delay = 0.005
    mock = generative_slack.mock
    mock.errors["chat.appendStream"] = "internal_error"  # Slack refuses one append mid-answer
    message, _ = generative_slack.mention(QUESTION)
    (update,) = mock.wait_for("chat.update", timeout=TIMEOUT)
    mock.settle()
    assert len(mock.of("chat.startStream")) == 1
    (started,) = [m for m in mock.messages[CHANNEL] if "streaming" in m]
    assert update["ts"] == started["ts"] and update["channel"] == CHANNEL  # the half-written message, completed
    assert started["thread_ts"] == message["ts"]
    assert long_quote(model.requests[-1]) in block_text(update["blocks"])
    assert set(buttons(update["blocks"])) == {THUMBS_UP, THUMBS_DOWN} and "Sources: [1]" in update["text"]
    assert mock.of("chat.postMessage") == [] and mock.of("chat.stopStream") == []
    assert model.streams[-1]["done"]  # the answer was finished from the model, not cut short
