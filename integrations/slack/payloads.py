"""What a Slack payload must look like before the bot reads it.

A signature proves a request came from Slack (or from someone holding the secret); it says nothing
about its shape. Two checks, so that no shape makes the bot fail or act:

- `bolt_request` builds bolt's request and `problem_with` checks the parts that bolt itself, its
  listener matchers and our middleware read without looking (ids, `event`, `actions`, ...). A payload
  that fails is *unreadable*: HTTP answers 400, Socket Mode acknowledges and drops it (a resend would
  be just as unreadable). Nothing else of the bot runs.
- `person_message`, `slash_command` and `button_click` turn what the listeners use into typed values,
  or None when a field is missing or of the wrong kind. The listener then acknowledges and stays
  silent: no reaction, no lookup, no message, no feedback row.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.request import BoltRequest

from integrations.slack.blocks import parse_button_value

SLACK_ID = re.compile(r"[A-Z][A-Z0-9]{2,49}")  # U…/W… users, C…/D…/G… channels, T… teams, E… orgs
TS = re.compile(r"\d{1,12}\.\d{1,9}")  # message timestamps: "1700000000.000100"
URL = re.compile(r"https?://[^\s]{1,2000}")


class MalformedPayload(ValueError):
    """A signed request whose body is not a Slack payload the bot can read."""


def bolt_request(build: Callable[[], BoltRequest]) -> BoltRequest:
    """`build()` (bolt parses the body and reads its ids), then `problem_with` on the parsed body.

    Raises MalformedPayload instead of whatever bolt raises on a body it cannot parse (not UTF-8,
    not JSON, a JSON list, an `authorizations` that is a number, ...).
    """
    try:
        request = build()
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        raise MalformedPayload(f"unreadable body ({type(exc).__name__})") from exc
    problem = problem_with(request.body)
    if problem:
        raise MalformedPayload(problem)
    return request


_STRINGS = ("type", "event_id", "command", "text", "user_id", "channel_id", "team_id", "enterprise_id",
            "api_app_id", "response_url", "trigger_id", "callback_id", "token")
_OBJECTS = ("message", "container", "view", "state", "previous_message", "item")
_NAMED = ("user", "channel", "team", "enterprise")  # a bare id, or an object with an `id`


def _named_ok(value: Any) -> bool:
    if value is None or isinstance(value, str):
        return True
    return isinstance(value, dict) and isinstance(value.get("id"), (str, type(None)))


def _fields_problem(obj: dict, where: str) -> str | None:
    for key in _STRINGS:
        if obj.get(key) is not None and not isinstance(obj[key], str):
            return f"{where}{key} is not a string"
    for key in _OBJECTS:
        if obj.get(key) is not None and not isinstance(obj[key], dict):
            return f"{where}{key} is not an object"
    for key in _NAMED:
        if not _named_ok(obj.get(key)):
            return f"{where}{key} is neither an id nor an object with an id"
    return None


def problem_with(body: Any) -> str | None:
    """Why bolt or our middleware could not read `body` safely, or None when they can."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    problem = _fields_problem(body, "")
    if problem:
        return problem
    for key in ("authorizations", "response_urls"):
        items = body.get(key)
        if items is not None and not (isinstance(items, list) and all(isinstance(i, dict) for i in items)):
            return f"{key} is not a list of objects"
    for item in body.get("authorizations") or []:
        if problem := _fields_problem(item, "authorizations[]."):
            return problem
    if body.get("type") == "event_callback" or "event" in body:
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event is not an object with a string type"
        if problem := _fields_problem(event, "event."):
            return problem
        if body.get("type") == "event_callback" and not isinstance(body.get("event_id"), str):
            return "event_id is missing"  # every event carries one; retries are recognised by it
    if "actions" in body:
        actions = body["actions"]
        if not (isinstance(actions, list) and actions and all(isinstance(a, dict) for a in actions)):
            return "actions is not a list of objects"
        for action in actions:
            if not isinstance(action.get("action_id"), str):
                return "actions[].action_id is missing"  # bolt's matchers read it without looking
            for key in ("block_id", "value", "type"):
                if action.get(key) is not None and not isinstance(action[key], str):
                    return f"actions[].{key} is not a string"
    return None


def _id(value: Any) -> str | None:
    return value if isinstance(value, str) and SLACK_ID.fullmatch(value) else None


def _ts(value: Any) -> str | None:
    return value if isinstance(value, str) and TS.fullmatch(value) else None


def _url(value: Any) -> str | None:
    return value if isinstance(value, str) and URL.fullmatch(value) else None


@dataclass(frozen=True)
class PersonMessage:
    """A message a person wrote (an `app_mention` or `message` event) that the bot may answer."""

    channel: str
    ts: str
    user: str
    text: str
    thread_ts: str | None
    direct: bool  # a direct message (`channel_type: im`)


def person_message(event: dict) -> PersonMessage | None:
    """The event as a PersonMessage, or None when a field the bot needs is missing or malformed."""
    channel, ts, user, text = _id(event.get("channel")), _ts(event.get("ts")), _id(event.get("user")), event.get("text")
    thread_ts = event.get("thread_ts")
    channel_type = event.get("channel_type")
    if not (channel and ts and user and isinstance(text, str)):
        return None
    if thread_ts is not None and not _ts(thread_ts):
        return None
    if channel_type is not None and not isinstance(channel_type, str):
        return None
    return PersonMessage(channel=channel, ts=ts, user=user, text=text, thread_ts=thread_ts,
                         direct=channel_type == "im")


@dataclass(frozen=True)
class SlashCommand:
    """`/partnership <text>` as typed by `user` in `channel`; the answer goes to `response_url`."""

    user: str
    channel: str
    text: str
    response_url: str


def slash_command(command: dict) -> SlashCommand | None:
    user, channel, url = _id(command.get("user_id")), _id(command.get("channel_id")), _url(command.get("response_url"))
    text = command.get("text", "")
    if not (user and channel and url and isinstance(text, str)):
        return None
    return SlashCommand(user=user, channel=channel, text=text, response_url=url)


@dataclass(frozen=True)
class ButtonClick:
    """A click on one of our buttons. `message` is the public message it sits on (None: ephemeral)."""

    user: str
    channel: str
    ref: str
    question: str
    response_url: str
    message: dict | None


def _public_message(message: Any) -> bool:
    return (isinstance(message, dict) and bool(_ts(message.get("ts"))) and isinstance(message.get("text", ""), str)
            and isinstance(message.get("blocks", []), list) and all(isinstance(b, dict) for b in message.get("blocks", [])))


def button_click(body: dict, action: dict) -> ButtonClick | None:
    """The click as a ButtonClick, or None unless it carries everything one of our buttons does."""
    user, channel = body.get("user"), body.get("channel")
    user = _id(user.get("id")) if isinstance(user, dict) else None
    channel = _id(channel.get("id")) if isinstance(channel, dict) else None
    url = _url(body.get("response_url"))
    ref, question = parse_button_value(action.get("value"))
    container = body.get("container", {})
    ephemeral = container.get("is_ephemeral", False) if isinstance(container, dict) else None
    if not (user and channel and url and ref is not None and question is not None and isinstance(ephemeral, bool)):
        return None
    message = None if ephemeral else body.get("message")
    if not ephemeral and not _public_message(message):  # Slack sends a public message back with the click
        return None
    return ButtonClick(user=user, channel=channel, ref=ref, question=question, response_url=url, message=message)
