"""Slack's AI-app surface through bolt's `Assistant` middleware: the real bolt app behind the real
`/slack/events` route, signed requests, the mock Web API recording assistant.threads.* in order."""
from __future__ import annotations

import time

from conftest import HEAD
from slack_mock import BOT_USER_ID, THUMBS_DOWN, THUMBS_UP, block_text, buttons

from integrations.slack.assistant_thread import (
    APOLOGY,
    CALCULATING,
    GREETING,
    PROMPTS_TITLE,
    SEARCHING,
    SUGGESTED_PROMPTS,
)

ASK_TIMEOUT = 120
DM = "D0ASSIST1"


def thread_started(slack, *, context: dict | None = None) -> str:
    """The person opens the assistant panel: Slack creates the thread and sends assistant_thread_started."""
    thread_ts = slack.mock.next_ts()
    event = {"type": "assistant_thread_started", "event_ts": thread_ts,
             "assistant_thread": {"user_id": HEAD, "channel_id": DM, "thread_ts": thread_ts,
                                  "context": context or {}}}
    assert slack.event(event).status_code == 200
    return thread_ts


def ask_in_thread(slack, text: str, thread_ts: str) -> dict:
    message, response = slack.message(text, channel=DM, channel_type="im", thread_ts=thread_ts)
    assert response.status_code == 200
    return message


def methods(slack) -> list[str]:
    return [c.method for c in slack.mock.calls]


def test_thread_started_sets_suggested_prompts_and_keeps_the_channel_context(slack):
    context = {"channel_id": "C0GENERAL", "team_id": "T0000001", "enterprise_id": None}
    thread_ts = thread_started(slack, context=context)
    prompts = slack.mock.wait_for("assistant.threads.setSuggestedPrompts", timeout=30)[0]
    assert prompts["channel_id"] == DM and prompts["thread_ts"] == thread_ts
    assert prompts["prompts"] == SUGGESTED_PROMPTS and prompts["title"] == PROMPTS_TITLE
    assert 3 <= len(prompts["prompts"]) <= 4
    greeting = slack.mock.of("chat.postMessage")[0]
    assert greeting["channel"] == DM and greeting["thread_ts"] == thread_ts and greeting["text"] == GREETING
    stored = slack.mock.wait_for("chat.update", timeout=30)[0]  # bolt's store: metadata on our greeting
    assert stored["metadata"] == {"event_type": "assistant_thread_context", "event_payload": context}

    # The person moves to another channel with the panel open: the stored context follows.
    moved = {**context, "channel_id": "C0FINANCE"}
    slack.event({"type": "assistant_thread_context_changed", "event_ts": slack.mock.next_ts(),
                 "assistant_thread": {"user_id": HEAD, "channel_id": DM, "thread_ts": thread_ts, "context": moved}})
    updates = slack.mock.wait_for("chat.update", count=2, timeout=30)
    assert updates[1]["metadata"]["event_payload"]["channel_id"] == "C0FINANCE"
    assert updates[1]["ts"] == stored["ts"]


def test_question_sets_title_and_status_before_the_answer_with_sources(slack):
    thread_ts = thread_started(slack)
    slack.mock.wait_for("assistant.threads.setSuggestedPrompts", timeout=30)
    question = "Can we buy only the parts of ELP we want?"
    ask_in_thread(slack, question, thread_ts)
    answer = slack.mock.wait_for("chat.postMessage", count=2, timeout=ASK_TIMEOUT)[1]
    assert answer["channel"] == DM and answer["thread_ts"] == thread_ts
    assert "[1]" in block_text(answer["blocks"]) and "Sources: [1]" in answer["text"]
    assert {THUMBS_UP, THUMBS_DOWN} <= set(buttons(answer["blocks"]))  # the feedback control
    cleared = slack.mock.wait_for("assistant.threads.setStatus", count=2, timeout=30)
    assert [s["status"] for s in cleared] == [SEARCHING, ""]
    assert all(s["channel_id"] == DM and s["thread_ts"] == thread_ts for s in cleared)
    title = slack.mock.of("assistant.threads.setTitle")
    assert [(t["title"], t["thread_ts"]) for t in title] == [(question, thread_ts)]
    seen = methods(slack)
    answer_at = len(seen) - 1 - seen[::-1].index("chat.postMessage")
    assert seen.index("assistant.threads.setTitle") < seen.index("assistant.threads.setStatus") < answer_at
    assert seen[answer_at + 1:].count("assistant.threads.setStatus") == 1  # cleared after the answer
    assert "reactions.add" not in seen  # the status replaces the hourglass here


def test_follow_up_uses_the_thread_as_history_and_calculations_say_so(slack):
    thread_ts = thread_started(slack)
    slack.mock.wait_for("assistant.threads.setSuggestedPrompts", timeout=30)
    ask_in_thread(slack, "What would a 420-pupil maintained primary pay in Ealing under scenario 1?", thread_ts)
    first = slack.mock.wait_for("chat.postMessage", count=2, timeout=ASK_TIMEOUT)[1]
    assert "£5,411" in first["text"]
    ask_in_thread(slack, "and under scenario 2?", thread_ts)
    second = slack.mock.wait_for("chat.postMessage", count=3, timeout=ASK_TIMEOUT)[2]
    assert second["thread_ts"] == thread_ts
    assert "£6,566" in second["text"] and "£5,411" not in second["text"]
    statuses = [s["status"] for s in slack.mock.wait_for("assistant.threads.setStatus", count=4, timeout=30)]
    assert statuses == [CALCULATING, "", CALCULATING, ""]  # the follow-up is routed with its history
    assert len(slack.mock.of("assistant.threads.setTitle")) == 1  # only the first question names the thread


def test_a_failure_clears_the_status_and_apologises_without_a_trace(slack):
    thread_ts = thread_started(slack)
    slack.mock.wait_for("assistant.threads.setSuggestedPrompts", timeout=30)
    slack.mock.errors["chat.postMessage"] = "internal_error"  # Slack refuses the answer once
    ask_in_thread(slack, "What does Haringey charge per pupil?", thread_ts)
    apology = slack.mock.wait_for("chat.postMessage", count=3, timeout=ASK_TIMEOUT)[2]
    assert apology["text"] == APOLOGY and apology["thread_ts"] == thread_ts
    assert "Traceback" not in apology["text"] and "internal_error" not in apology["text"]
    statuses = [s["status"] for s in slack.mock.of("assistant.threads.setStatus")]
    assert statuses == [SEARCHING, ""]
    seen = methods(slack)
    assert seen.index("assistant.threads.setStatus") < len(seen) - 1 - seen[::-1].index("assistant.threads.setStatus")


def test_direct_messages_outside_assistant_threads_are_answered_as_before(slack):
    message, _ = slack.message("What does the Hillingdon Learning Partnership cost to join?",
                               channel=DM, channel_type="im")
    post = slack.mock.wait_for("chat.postMessage", timeout=ASK_TIMEOUT)[0]
    assert post["thread_ts"] == message["ts"] and "Hillingdon" in block_text(post["blocks"])
    slack.mock.wait_for("reactions.remove", timeout=30)
    assert slack.mock.of("assistant.threads.setStatus") == []


def test_prompts_are_questions_the_corpus_answers(assistant):
    for prompt in SUGGESTED_PROMPTS:
        answer = assistant.ask(prompt["message"])
        assert answer.grounded and answer.citations, prompt["message"]
        assert f"<@{BOT_USER_ID}>" not in prompt["message"]


def test_assistant_thread_over_socket_mode(assistant, mock_slack):
    """The same surface through Socket Mode frames: thread started → prompts; a question → status, answer."""
    from slack_socket_mock import MockSocketMode

    from assistant.config import Settings
    from integrations.slack.socket import socket_mode_handler

    socket_mode = MockSocketMode()
    mock_slack.socket_url = socket_mode.url
    handler = socket_mode_handler(assistant, Settings(), bot_token="xoxb-socket", app_token="xapp-1-A0-1-x")

    def deliver(envelope_id: str, event: dict) -> None:
        body = {"type": "event_callback", "team_id": "T0000001", "api_app_id": "A0APP0001", "event": event,
                "event_id": f"Ev{envelope_id}", "event_time": int(time.time()),
                "authorizations": [{"team_id": "T0000001", "user_id": BOT_USER_ID, "is_bot": True}]}
        socket_mode.send({"envelope_id": envelope_id, "type": "events_api", "payload": body,
                          "accepts_response_payload": False, "retry_attempt": 0, "retry_reason": ""})
        assert socket_mode.ack_for(envelope_id) == {"envelope_id": envelope_id}

    try:
        handler.connect()
        socket_mode.wait_connected()
        thread_ts = mock_slack.next_ts()
        deliver("env-start", {"type": "assistant_thread_started", "event_ts": thread_ts,
                              "assistant_thread": {"user_id": HEAD, "channel_id": DM, "thread_ts": thread_ts,
                                                   "context": {}}})
        prompts = mock_slack.wait_for("assistant.threads.setSuggestedPrompts", timeout=30)[0]
        assert prompts["prompts"] == SUGGESTED_PROMPTS and prompts["_token"] == "xoxb-socket"
        message = mock_slack.add_message(DM, "What does Haringey charge per pupil?", user=HEAD, thread_ts=thread_ts)
        deliver("env-ask", {**message, "channel": DM, "channel_type": "im", "event_ts": message["ts"]})
        answer = mock_slack.wait_for("chat.postMessage", count=2, timeout=ASK_TIMEOUT)[1]
        assert answer["thread_ts"] == thread_ts and "Haringey" in answer["text"]
        statuses = [s["status"] for s in mock_slack.wait_for("assistant.threads.setStatus", count=2, timeout=30)]
        assert statuses == [SEARCHING, ""]
    finally:
        handler.close()
        socket_mode.close()
