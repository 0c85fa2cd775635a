"""Payloads that broke the bot when it was first fuzzed (`test_payload_fuzz.py`), each named after the
payload. All go through the real `/slack/events` route (or a real Socket Mode connection)."""
from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import httpx
import pytest
from conftest import CHANNEL, HEAD
from slack_mock import BOT_USER_ID, TEAM_ID

from integrations.slack.blocks import FEEDBACK_UP, SHARE

QUESTION = "How is the Ealing Learning Partnership funded?"
ACTING = ("chat.", "reactions.", "conversations.", "response_url")
REMOVE = "<remove this field>"


def acting(slack) -> list[str]:
    slack.mock.settle(0.5)
    return [c.method for c in slack.mock.calls if c.method.startswith(ACTING)]


def mention(**changes) -> dict:
    ts = f"{int(time.time())}.000042"
    event = {"type": "app_mention", "user": HEAD, "text": f"<@{BOT_USER_ID}> {QUESTION}", "ts": ts,
             "channel": CHANNEL, "event_ts": ts}
    return {**event, **changes}


def event_body(event, changes: dict | None = None) -> dict:
    body = {"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0APP0001", "type": "event_callback",
            "event": event, "event_id": f"Ev{time.monotonic_ns()}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}]}
    return {**body, **(changes or {})}


def post_json(slack, body) -> httpx.Response:
    return slack.post(json.dumps(body).encode(), "application/json")


def command(slack, **changes) -> httpx.Response:
    form = {"team_id": TEAM_ID, "channel_id": CHANNEL, "user_id": HEAD, "command": "/partnership",
            "text": f"ask {QUESTION}", "response_url": slack.mock.response_url("cmd"), "trigger_id": "1.2.3"}
    form = {k: v for k, v in {**form, **changes}.items() if v != REMOVE}
    return slack.post(urlencode(form).encode(), "application/x-www-form-urlencoded")


def click(slack, action_id: str = FEEDBACK_UP, value: str | None = None, **changes) -> httpx.Response:
    """A click on an ephemeral answer, with `changes` to its fields (REMOVE drops one)."""
    payload = {"type": "block_actions", "team": {"id": TEAM_ID}, "user": {"id": HEAD}, "api_app_id": "A0APP0001",
               "channel": {"id": CHANNEL}, "response_url": slack.mock.response_url("act"), "trigger_id": "1.2.3",
               "container": {"type": "message", "message_ts": "1.1", "channel_id": CHANNEL, "is_ephemeral": True},
               "actions": [{"type": "button", "action_id": action_id, "block_id": "feedback",
                            "value": json.dumps({"ref": "0123456789abcdef", "q": QUESTION}) if value is None else value}]}
    payload = {k: v for k, v in {**payload, **changes}.items() if v != REMOVE}
    return slack.post(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")


# -- before the signature is checked: anyone can send these ------------------------------------------

def test_body_0x80_not_utf8_gets_401_not_500(slack):
    response = httpx.post(slack.url, content=b"\x80", timeout=30,
                          headers={"Content-Type": "application/json", "X-Slack-Signature": "v0=00",
                                   "X-Slack-Request-Timestamp": str(int(time.time()))})
    assert response.status_code == 401


def test_timestamp_header_abc_gets_401_not_500(slack):
    response = httpx.post(slack.url, content=b"{}", timeout=30,
                          headers={"X-Slack-Signature": "v0=00", "X-Slack-Request-Timestamp": "abc"})
    assert response.status_code == 401


# -- signed, but no Slack payload: 400, nothing done -----------------------------------------------------

@pytest.mark.parametrize("body, content_type", [
    (b"{", "application/json"),
    (b"[]", "application/json"),
    (b"null", "application/json"),
    (b"payload=%7B", "application/x-www-form-urlencoded"),
    (b"payload=%5B%5D", "application/x-www-form-urlencoded"),
], ids=["brace", "json_list", "json_null", "payload_brace", "payload_list"])
def test_unreadable_signed_body_gets_400_not_500(slack, body, content_type):
    response = slack.post(body, content_type)
    assert response.status_code == 400 and "Malformed Slack payload" in response.text
    assert acting(slack) == []


@pytest.mark.parametrize("changes", [
    {"event": "type"},
    {"event": {"type": ["app_mention"]}},
    {"event_id": ["Ev1"]},
    {"event_id": None},
    {"authorizations": 5},
    {"authorizations": [5]},
    {"team": 7},
    {"enterprise": 0},
], ids=["event_string_type", "event_type_list", "event_id_list", "event_id_missing", "authorizations_5",
        "authorizations_list_of_5", "team_7", "enterprise_0"])
def test_event_envelope_with_wrong_types_gets_400(slack, changes):
    response = post_json(slack, event_body(mention(), changes))
    assert response.status_code == 400
    assert acting(slack) == []


@pytest.mark.parametrize("actions", [[{}], None, 5], ids=["list_of_empty_object", "null", "5"])
def test_actions_not_a_list_of_actions_gets_400_not_500(slack, actions):
    response = click(slack, actions=actions)
    assert response.status_code == 400
    assert acting(slack) == [] and slack.feedback_rows() == []


# -- well formed, but a field the bot needs is missing or wrong: acknowledged, ignored ---------------------

@pytest.mark.parametrize("changes, status", [
    ({"ts": 1700000000}, 200),
    ({"ts": "yesterday"}, 200),
    ({"channel": {"id": CHANNEL}}, 200),
    ({"user": {"id": HEAD}}, 200),
    ({"text": REMOVE}, 200),
    ({"thread_ts": 1.5}, 200),
    ({"channel": 5}, 400),  # bolt reads the channel of every event
    ({"text": ["<@UBOT0001> hi"]}, 400),
    ({"text": f"<@{BOT_USER_ID}> " + "x" * 8395, "channel": {}}, 200),  # was told "The question is 8,395 characters long"
], ids=["ts_int", "ts_yesterday", "channel_object", "user_object", "text_missing", "thread_ts_float", "channel_5",
        "text_list", "huge_8395_chars_channel_empty_object"])
def test_mention_with_a_malformed_field_is_not_answered(slack, changes, status):
    event = {k: v for k, v in mention(**changes).items() if v != REMOVE}
    assert post_json(slack, event_body(event)).status_code == status
    assert acting(slack) == []


def test_direct_message_with_ts_int_is_not_answered(slack):
    event = {"type": "message", "channel_type": "im", "channel": "D0HEAD001", "user": HEAD, "text": QUESTION,
             "ts": 1700000000}
    assert post_json(slack, event_body(event)).status_code == 200
    assert acting(slack) == []


@pytest.mark.parametrize("changes", [
    {"user_id": REMOVE},
    {"channel_id": REMOVE},
    {"channel_id": "null"},
    {"user_id": "5"},
    {"user_id": "null"},
    {"response_url": REMOVE},
    {"response_url": "not a url"},
], ids=["user_id_missing", "channel_id_missing", "channel_id_null", "user_id_5", "user_id_null", "response_url_missing",
        "response_url_not_a_url"])
def test_slash_ask_with_a_malformed_field_is_acknowledged_and_not_answered(slack, changes):
    response = command(slack, **changes)
    assert response.status_code == 200 and not response.content
    assert acting(slack) == []


@pytest.mark.parametrize("changes, status", [
    ({"user": REMOVE}, 200),
    ({"user": "UHEAD0001"}, 200),
    ({"channel": REMOVE}, 200),
    ({"response_url": REMOVE}, 200),
    ({"container": {"is_ephemeral": "yes"}}, 200),
    ({"container": {"is_ephemeral": False}}, 200),  # a public message, but the message is missing
    ({"container": {"is_ephemeral": False}, "message": {"ts": 1.5, "text": "An answer"}}, 200),
    ({"container": {"is_ephemeral": False}, "message": {"ts": "1700000000.000100", "blocks": [5]}}, 200),
    ({"user": {"id": 5}}, 400),  # bolt reads the user of every request
], ids=["user_missing", "user_string", "channel_missing", "response_url_missing", "is_ephemeral_yes",
        "public_without_message", "message_ts_float", "message_blocks_list_of_5", "user_id_5"])
def test_feedback_click_with_a_malformed_field_stores_nothing_and_posts_nothing(slack, changes, status):
    assert click(slack, **changes).status_code == status
    assert acting(slack) == [] and slack.feedback_rows() == []


@pytest.mark.parametrize("value", [
    "",
    json.dumps({"ref": ["x"], "q": QUESTION}),
    json.dumps({"ref": "0123456789abcdef", "q": {"text": QUESTION}}),
    json.dumps({"ref": "0123456789abcdef"}),
    json.dumps([1, 2]),
    "not json",
], ids=["empty", "ref_list", "q_object", "q_missing", "json_list", "not_json"])
def test_button_value_not_written_by_the_bot_is_ignored(slack, value):
    assert click(slack, action_id=SHARE, value=value).status_code == 200
    assert click(slack, action_id=FEEDBACK_UP, value=value).status_code == 200
    assert acting(slack) == [] and slack.feedback_rows() == []


# -- Socket Mode ------------------------------------------------------------------------------------------

@pytest.fixture
def socket_mode(assistant, mock_slack):
    from slack_socket_mock import MockSocketMode

    from assistant.config import Settings
    from integrations.slack.socket import socket_mode_handler

    server = MockSocketMode()
    mock_slack.socket_url = server.url
    handler = socket_mode_handler(assistant, Settings(), bot_token="xoxb-socket", app_token="xapp-1-A0-1-x")
    handler.connect()
    server.wait_connected()
    yield server
    handler.close()
    server.close()


@pytest.mark.parametrize("envelope_type, payload", [
    ("events_api", {"type": "event_callback", "event": "type", "event_id": "Ev1"}),
    ("events_api", {"type": "event_callback", "event": mention(), "event_id": "Ev2", "authorizations": 5}),
    ("slash_commands", {"command": "/partnership", "text": f"ask {QUESTION}", "channel_id": CHANNEL,
                        "response_url": "https://hooks.slack.com/commands/1"}),  # no user_id
    ("interactive", {"type": "block_actions", "actions": [{}], "user": {"id": HEAD}}),
    ("events_api", {"type": "event_callback", "event": {**mention(), "type": "0"}, "event_id": "Ev3"}),
], ids=["event_string_type", "authorizations_5", "command_without_user_id", "actions_list_of_empty_object",
        "event_type_0"])
def test_socket_mode_envelope_is_acknowledged_and_dropped(socket_mode, mock_slack, envelope_type, payload):
    socket_mode.send({"envelope_id": "env-bad", "type": envelope_type, "payload": payload,
                      "accepts_response_payload": envelope_type != "events_api"})
    assert socket_mode.ack_for("env-bad") == {"envelope_id": "env-bad"}
    mock_slack.settle(0.5)
    assert [c.method for c in mock_slack.calls if c.method.startswith(ACTING)] == []
