"""Slack payloads fuzzed (hypothesis): correctly signed events, slash commands and button clicks of every
broken shape (missing fields, wrong types, huge texts, unknown types, nested garbage) go through the real
`POST /slack/events` route and through real Socket Mode frames. The service never answers 5xx (in Socket
Mode: every envelope is acknowledged), never calls the Slack API for a malformed payload, stores no
feedback for one, and answers a valid mention sent right after it.

Every payload here is malformed by construction: a valid template with at least one required field
removed or given the wrong type, or a body that is no Slack payload at all. Unknown fields full of
nested garbage are added on top, and never make a payload valid.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pytest
from conftest import BOT_TOKEN, SIGNING_SECRET
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_mock import BOT_USER_ID, TEAM_ID, MockSlack, buttons, start_mock_slack
from slack_sdk import WebClient

from assistant.config import Settings
from assistant.feedback import FeedbackStore
from tests.support.servers import serve_in_thread

CHANNEL = "C0FUZZ001"
ANSWER_TIMEOUT = 120
# Bounded and repeatable: the same examples on every run (derandomize), nothing kept between runs.
FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_ids = itertools.count(1)


def fresh_id(prefix: str) -> str:
    return f"{prefix}{next(_ids):07d}"


# -- generators ---------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64), st.floats(allow_nan=False),
                    st.text(max_size=40))
garbage = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                       max_leaves=12)
huge_text = st.builds(lambda ch, n: ch * n, st.sampled_from(["x", "é", "😀", "<!channel>", "\\", "\u0000"]),
                      st.integers(3_000, 20_000))


def wrong_type(valid):
    """Any value not of `valid`'s type (a string is never replaced by a string, a dict never by a dict)."""
    return garbage.filter(lambda v: type(v) is not type(valid) and not (isinstance(valid, str) and isinstance(v, str)))


def _child(node, key: str):
    """`node[key]` of a dict, or of a list when `key` is an index in it; None otherwise."""
    if isinstance(node, dict):
        return node.get(key)
    if isinstance(node, list) and key.isdigit() and int(key) < len(node):
        return node[int(key)]
    return None


def _at(node, path: tuple[str, ...]):
    for key in path:
        node = _child(node, key)
    return node


@st.composite
def broken(draw, template: dict, required: list[tuple[str, ...]], typed: list[tuple[str, ...]] = ()) -> dict:
    """`template` with at least one path broken: a `required` one removed or given a wrong type, or an
    optional `typed` one given a wrong type. Then unknown keys with nested garbage are added."""
    payload = json.loads(json.dumps(template))
    choices = [(path, True) for path in required] + [(path, False) for path in typed]
    missing = [path for path, _ in choices if _at(template, path) is None]
    assert not missing, f"the template has no {missing}"  # else the first pick could leave it valid
    picked = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=3, unique_by=lambda c: c[0]))
    for path, removable in picked:
        parent = payload
        for key in path[:-1]:
            parent = _child(parent, key)
        if _child(parent, path[-1]) is None:  # templates hold no nulls: an earlier path broke an ancestor
            continue
        key = path[-1] if isinstance(parent, dict) else int(path[-1])
        if removable and isinstance(parent, dict) and draw(st.booleans()):
            del parent[key]
        else:
            parent[key] = draw(wrong_type(parent[key]))
    for _ in range(draw(st.integers(0, 3))):  # nested garbage under names Slack never sends
        target = payload.get("event") if isinstance(payload.get("event"), dict) and draw(st.booleans()) else payload
        target[f"x_{draw(st.text('abcdefgh', min_size=1, max_size=6))}"] = draw(garbage)
    return payload


def mention_event(text: str = "How is the Ealing Learning Partnership funded?", *, user: str = "UHEAD0001") -> dict:
    ts = f"{int(time.time())}.{next(_ids):06d}"
    return {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}", "ts": ts,
            "channel": CHANNEL, "event_ts": ts}


def im_event() -> dict:
    ts = f"{int(time.time())}.{next(_ids):06d}"
    return {"type": "message", "user": "UHEAD0001", "text": "What does the Hillingdon partnership cost?", "ts": ts,
            "channel": "D0FUZZ001", "channel_type": "im", "event_ts": ts}


def envelope(event) -> dict:
    return {"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0APP0001", "type": "event_callback",
            "event": event, "event_id": fresh_id("Ev"), "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}]}


EVENT_REQUIRED = [("type",), ("event",), ("event_id",), ("event", "type"), ("event", "user"), ("event", "text"),
                  ("event", "ts"), ("event", "channel")]
EVENT_TYPED = [("authorizations",), ("authorizations", "0"), ("team_id",)]


@st.composite
def malformed_events(draw) -> dict:
    kind = draw(st.sampled_from(["mention", "im", "thread", "unknown_type", "garbage_event", "huge"]))
    if kind == "mention":
        return draw(broken(envelope(mention_event()), EVENT_REQUIRED, EVENT_TYPED))
    if kind == "im":
        return draw(broken(envelope(im_event()), EVENT_REQUIRED + [("event", "channel_type")], EVENT_TYPED))
    if kind == "thread":  # a follow-up in a thread, with a broken thread_ts or ts
        event = {**im_event(), "channel": CHANNEL, "channel_type": "channel", "thread_ts": "1700000000.000001"}
        return draw(broken(envelope(event), [("event", "thread_ts"), ("event", "ts"), ("event", "user")]))
    if kind == "unknown_type":  # well formed, but nothing the bot listens to
        event = {**mention_event(), "type": draw(st.text(min_size=1, max_size=30).filter(
            lambda t: t not in ("app_mention", "message")))}
        body = envelope(event)
        body["type"] = draw(st.sampled_from(["event_callback", "event_callbak", "app_rate_limited", ""]))
        return body
    if kind == "huge":  # a huge text, and something else broken
        event = mention_event(draw(huge_text))
        return draw(broken(envelope(event), [("event", "user"), ("event", "ts"), ("event", "channel")]))
    body = envelope(draw(garbage))
    return draw(broken(body, [("event",), ("type",), ("event_id",)])) if draw(st.booleans()) else body


def command_form(text: str = "ask How is the Ealing Learning Partnership funded?", **extra) -> dict:
    return {"token": "legacy", "team_id": TEAM_ID, "team_domain": "schools", "channel_id": CHANNEL,
            "channel_name": "general", "user_id": "UHEAD0001", "user_name": "head", "command": "/partnership",
            "text": text, "api_app_id": "A0APP0001", "response_url": "", "trigger_id": "1.2.3", **extra}


COMMAND_TEXTS = st.one_of(st.sampled_from(["ask How is Ealing funded?", "calc 420-pupil primary in Ealing",
                                           "calc --pupils 420 --scenario 2", "ask", "frobnicate", "help", ""]),
                          st.text(max_size=60), huge_text.map(lambda t: "ask " + t))


@st.composite
def malformed_commands(draw, response_url: str) -> dict:
    """A JSON payload (Socket Mode sends commands as JSON, so any type can arrive)."""
    return draw(broken(command_form(draw(COMMAND_TEXTS), response_url=response_url),
                       [("user_id",), ("channel_id",), ("response_url",), ("command",), ("text",)]))


def click_payload(action_id: str, value: str, response_url: str, *, message: dict | None = None) -> dict:
    payload = {
        "type": "block_actions", "team": {"id": TEAM_ID, "domain": "schools"}, "user": {"id": "UHEAD0001"},
        "api_app_id": "A0APP0001", "token": "legacy", "trigger_id": "1.2.3",
        "channel": {"id": CHANNEL, "name": "general"}, "response_url": response_url,
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": CHANNEL,
                      "is_ephemeral": message is None},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "feedback", "value": value,
                     "text": {"type": "plain_text", "text": "👍 Helpful"}, "action_ts": str(time.time())}],
    }
    if message is not None:
        payload["message"] = message
    return payload


CLICK_REQUIRED = [("type",), ("user",), ("user", "id"), ("channel",), ("channel", "id"), ("actions",),
                  ("actions", "0"), ("actions", "0", "action_id"), ("actions", "0", "value"), ("response_url",)]
CLICK_TYPED = [("container",), ("container", "is_ephemeral"), ("team",)]


def ours(value: str) -> bool:
    """Whether `value` has the shape of the bot's button values, {"ref": str, "q": str}."""
    try:
        data = json.loads(value)
    except ValueError:
        return False
    return isinstance(data, dict) and isinstance(data.get("ref"), str) and isinstance(data.get("q"), str)


@st.composite
def malformed_clicks(draw, response_url: str) -> dict:
    action_id = draw(st.sampled_from(["feedback", "feedback_up", "feedback_down", "share_answer"]))
    value = json.dumps({"ref": "0123456789abcdef", "q": "How is the Ealing Learning Partnership funded?",
                        **({"r": "down"} if action_id == "feedback" else {})})
    public = draw(st.booleans())
    message = {"type": "message", "user": BOT_USER_ID, "ts": "1700000000.000100", "text": "An answer",
               "blocks": []} if public else None
    required = CLICK_REQUIRED + ([("message",), ("message", "ts")] if public else [])
    typed = CLICK_TYPED + ([("message", "blocks"), ("message", "text")] if public else [])
    kind = draw(st.sampled_from(["broken", "value", "unknown_action", "garbage_actions"]))
    if kind == "value":  # a button value the bot never wrote
        bad = draw(st.one_of(st.text(max_size=50), garbage.map(json.dumps),
                             st.builds(lambda ref, q: json.dumps({"ref": ref, "q": q}), garbage, garbage)
                             ).filter(lambda v: not ours(v)))
        payload = click_payload(action_id, bad, response_url, message=message)
        return draw(broken(payload, [("channel", "id"), ("user", "id")])) if draw(st.booleans()) else payload
    if kind == "unknown_action":
        unknown = st.text(max_size=30).filter(lambda a: a not in ("feedback", "feedback_up", "feedback_down", "share_answer"))
        payload = click_payload(draw(unknown), value, response_url, message=message)
        payload["type"] = draw(st.sampled_from(["block_actions", "view_submission", "shortcut", "interactive_message"]))
        return payload
    if kind == "garbage_actions":
        payload = click_payload(action_id, value, response_url, message=message)
        payload["actions"] = draw(garbage)
        return payload
    return draw(broken(click_payload(action_id, value, response_url, message=message), required, typed))


def signed(body: bytes, timestamp: str | None = None) -> dict:
    """Slack's signature headers: HMAC-SHA256 of `v0:<timestamp>:<raw body bytes>` with the signing secret."""
    timestamp = timestamp or str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}


# -- the service under test -----------------------------------------------------------------------

@dataclass
class Service:
    """The real FastAPI service with the Slack router, on 127.0.0.1, against a mock Slack Web API."""

    url: str
    mock: MockSlack
    feedback: FeedbackStore

    def post(self, body: bytes, content_type: str) -> httpx.Response:
        return httpx.post(self.url, content=body, headers={"Content-Type": content_type, **signed(body)}, timeout=30)

    def post_json(self, payload) -> httpx.Response:
        return self.post(json.dumps(payload).encode(), "application/json")

    def post_form(self, form: dict) -> httpx.Response:
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")


@pytest.fixture(scope="module")
def service(assistant, tmp_path_factory) -> Iterator[Service]:
    from integrations.http.app import create_app
    from integrations.slack.http_mount import slack_router

    mock, server = start_mock_slack()
    settings_ = Settings(data_dir=tmp_path_factory.mktemp("fuzz") / "data", slack_rate_limit_per_minute=10_000)
    router = slack_router(token=BOT_TOKEN, signing_secret=SIGNING_SECRET,
                          client=WebClient(token=BOT_TOKEN, base_url=mock.url))
    base, stop = serve_in_thread(create_app(settings_, assistant, extra_routers=[router], builder=None))
    yield Service(url=f"{base}/slack/events", mock=mock, feedback=FeedbackStore(settings_.feedback_db))
    stop()
    server.shutdown()
    server.server_close()


ACTING = ("chat.", "reactions.", "conversations.", "response_url", "views.", "files.")


def acting_calls(mock: MockSlack, since: int) -> list[tuple[str, dict]]:
    """Calls that read or change the workspace (everything but auth.test), from index `since`."""
    with mock._lock:
        calls = mock.calls[since:]
    return [(c.method, c.payload) for c in calls if c.method.startswith(ACTING)]


def assert_still_answers(service: Service, since: int, feedback_rows: int) -> None:
    """A valid mention is answered in its thread; nothing else happened since `since`."""
    event = mention_event(user=fresh_id("UOK"))
    service.mock.add_message(CHANNEL, event["text"], user=event["user"])
    assert service.post_json(envelope(event)).status_code == 200
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while not any(m == "chat.postMessage" and p.get("thread_ts") == event["ts"]
                  for m, p in acting_calls(service.mock, since)):
        assert time.monotonic() < deadline, "the valid mention after a malformed payload was not answered"
        time.sleep(0.02)
    service.mock.settle(0.2)
    strays = [(m, p) for m, p in acting_calls(service.mock, since)
              if p.get("thread_ts") != event["ts"] and p.get("timestamp") != event["ts"]]
    assert strays == [], f"the malformed payload made the bot act: {strays}"
    assert len(service.feedback.all()) == feedback_rows, "feedback stored for a malformed click"


def check(service: Service, response: httpx.Response, since: int, feedback_rows: int) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert_still_answers(service, since, feedback_rows)


# -- HTTP ----------------------------------------------------------------------------------------

@FUZZ
@given(body=malformed_events())
def test_fuzzed_events_over_http(service, body):
    since, rows = len(service.mock.calls), len(service.feedback.all())
    check(service, service.post_json(body), since, rows)


@FUZZ
@given(data=st.data())
def test_fuzzed_slash_commands_over_http(service, data):
    since, rows = len(service.mock.calls), len(service.feedback.all())
    payload = data.draw(malformed_commands(service.mock.response_url("cmd")))
    # A form carries strings only: a wrong type arrives as its JSON text, a removed field is absent.
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}
    check(service, service.post_form(form), since, rows)


@FUZZ
@given(data=st.data())
def test_fuzzed_button_clicks_over_http(service, data):
    since, rows = len(service.mock.calls), len(service.feedback.all())
    payload = data.draw(malformed_clicks(service.mock.response_url("act")))
    check(service, service.post_form({"payload": json.dumps(payload)}), since, rows)


RAW_BODIES = st.one_of(
    st.binary(max_size=200).map(lambda b: (b, "application/json")),
    st.binary(max_size=200).map(lambda b: (b, "application/x-www-form-urlencoded")),
    garbage.map(lambda v: (json.dumps(v).encode(), "application/json")),
    st.text(max_size=100).map(lambda t: (urlencode({"payload": t}).encode(), "application/x-www-form-urlencoded")),
    garbage.map(lambda v: (urlencode({"payload": json.dumps(v)}).encode(), "application/x-www-form-urlencoded")),
    st.sampled_from([b"payload=", b"payload=%7B", b"{", b"[]", b"null", b"\xff\xfe{", b"payload=%FF"]).map(
        lambda b: (b, "application/x-www-form-urlencoded")),
)


@FUZZ
@given(raw=RAW_BODIES)
def test_fuzzed_raw_bodies_over_http(service, raw):
    since, rows = len(service.mock.calls), len(service.feedback.all())
    body, content_type = raw
    check(service, service.post(body, content_type), since, rows)


# Printable ASCII without surrounding spaces: what an HTTP client can send at all (h11 refuses a header value
# with leading or trailing whitespace before it reaches the service).
HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80).map(str.strip)
SIGNATURE_HEADERS = st.fixed_dictionaries({
    "X-Slack-Request-Timestamp": st.one_of(HEADER_TEXT.map(lambda t: t[:20].strip()), st.integers(-10**20, 10**20).map(str)),
    "X-Slack-Signature": st.one_of(HEADER_TEXT, st.binary(min_size=32, max_size=32).map(lambda b: "v0=" + b.hex())),
})


@FUZZ
@given(headers=SIGNATURE_HEADERS, body=st.one_of(st.binary(max_size=100), st.just(b'{"type": "event_callback"}')))
def test_fuzzed_signature_headers_get_401(service, headers, body):
    """Unsigned requests (anyone can send them): garbage timestamps and signatures are refused with 401."""
    since = len(service.mock.calls)
    response = httpx.post(service.url, content=body, headers={"Content-Type": "application/json", **headers},
                          timeout=30)
    assert response.status_code == 401, (response.status_code, response.text[:200])
    assert acting_calls(service.mock, since) == []


# -- Socket Mode ---------------------------------------------------------------------------------

@dataclass
class SocketService:
    """The real Socket Mode handler (`partnership slack`'s) connected to a local websocket."""

    socket: object  # slack_socket_mock.MockSocketMode
    mock: MockSlack
    feedback: FeedbackStore

    def valid_mention(self) -> tuple[str, str]:
        """(envelope id, message ts) of a valid mention pushed through the socket."""
        event = mention_event(user=fresh_id("UOK"))
        self.mock.add_message(CHANNEL, event["text"], user=event["user"])
        envelope_id = fresh_id("env-ok-")
        self.socket.send({"envelope_id": envelope_id, "type": "events_api", "payload": envelope(event),
                          "accepts_response_payload": False, "retry_attempt": 0, "retry_reason": ""})
        return envelope_id, event["ts"]


@pytest.fixture(scope="module")
def socket_service(assistant, tmp_path_factory) -> Iterator[SocketService]:
    from slack_socket_mock import MockSocketMode

    from integrations.slack.socket import socket_mode_handler

    mock, server = start_mock_slack()
    socket_mode = MockSocketMode()
    mock.socket_url = socket_mode.url
    settings_ = Settings(data_dir=tmp_path_factory.mktemp("fuzz-socket") / "data", slack_rate_limit_per_minute=10_000,
                         slack_api_url=mock.url)  # Settings is where the API URL is read, not the environment
    handler = socket_mode_handler(assistant, settings_, bot_token=BOT_TOKEN, app_token="xapp-1-A0-1-fuzz")
    handler.connect()
    socket_mode.wait_connected()
    yield SocketService(socket=socket_mode, mock=mock, feedback=FeedbackStore(settings_.feedback_db))
    handler.close()
    socket_mode.close()
    server.shutdown()
    server.server_close()


def socket_still_answers(service: SocketService, since: int, feedback_rows: int) -> None:
    envelope_id, ts = service.valid_mention()
    assert service.socket.ack_for(envelope_id, timeout=30) == {"envelope_id": envelope_id}
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while not any(m == "chat.postMessage" and p.get("thread_ts") == ts for m, p in acting_calls(service.mock, since)):
        assert time.monotonic() < deadline, "the valid mention after a malformed frame was not answered"
        time.sleep(0.02)
    service.mock.settle(0.2)
    strays = [(m, p) for m, p in acting_calls(service.mock, since) if p.get("thread_ts") != ts and p.get("timestamp") != ts]
    assert strays == [], f"the malformed frame made the bot act: {strays}"
    assert len(service.feedback.all()) == feedback_rows, "feedback stored for a malformed click"


ENVELOPE_TYPES = st.sampled_from(["events_api", "slash_commands", "interactive"])


@st.composite
def malformed_envelopes(draw, response_url: str) -> dict:
    """A well-framed envelope (type, envelope_id, payload) whose payload is malformed."""
    kind = draw(st.sampled_from(["events_api", "slash_commands", "interactive", "any"]))
    payload = {
        "events_api": malformed_events(),
        "slash_commands": malformed_commands(response_url),
        "interactive": malformed_clicks(response_url),
        "any": st.one_of(st.dictionaries(st.text(max_size=10), garbage, max_size=5), st.text(max_size=40)),
    }[kind]
    return {"envelope_id": fresh_id("env-"), "type": kind if kind != "any" else draw(ENVELOPE_TYPES),
            "payload": draw(payload), "accepts_response_payload": draw(st.booleans()),
            "retry_attempt": draw(st.one_of(st.just(0), garbage)), "retry_reason": draw(st.one_of(st.just(""), garbage))}


@FUZZ
@given(data=st.data())
def test_fuzzed_socket_mode_envelopes_are_acknowledged(socket_service, data):
    """Socket Mode has no status code: the guarantee is that every envelope is acknowledged (Slack would
    otherwise resend it) and nothing is acted on."""
    service = socket_service
    since, rows = len(service.mock.calls), len(service.feedback.all())
    frame = data.draw(malformed_envelopes(service.mock.response_url("sock")))
    service.socket.send(frame)
    ack = service.socket.ack_for(frame["envelope_id"], timeout=30)
    assert set(ack) <= {"envelope_id", "payload"}
    socket_still_answers(service, since, rows)


RAW_FRAMES = st.one_of(
    st.text(max_size=80).filter(lambda t: "disconnect" not in t),
    st.binary(max_size=80),
    garbage.map(json.dumps).filter(lambda t: "disconnect" not in t),
    st.fixed_dictionaries({"type": st.one_of(ENVELOPE_TYPES, garbage.filter(lambda v: v != "disconnect")),
                           "payload": garbage}, optional={"envelope_id": garbage}).map(json.dumps),
    st.sampled_from(["{", "{}", "[]", "null", '{"type": "hello"}', '{"envelope_id": "x"}']),
)


@FUZZ
@given(frame=RAW_FRAMES)
def test_fuzzed_socket_mode_frames_leave_the_connection_answering(socket_service, frame):
    """Frames that are no envelope at all (not JSON, binary, no envelope id, payload a number)."""
    since, rows = len(socket_service.mock.calls), len(socket_service.feedback.all())
    socket_service.socket.send_raw(frame)
    socket_still_answers(socket_service, since, rows)
