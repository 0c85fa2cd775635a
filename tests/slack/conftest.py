"""Slack fixtures: a mock Slack Web API, and the real bolt app served at POST /slack/events by the real
FastAPI service (uvicorn on an ephemeral 127.0.0.1 port), answering with a real Assistant."""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pytest
from slack_mock import BOT_USER_ID, TEAM_ID, MockSlack, start_mock_slack
from slack_sdk.signature import SignatureVerifier

from assistant.config import Settings
from assistant.feedback import FeedbackStore
from tests.support.servers import serve_in_thread

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token"
HEAD = "UHEAD0001"  # the headteacher asking
CHANNEL = "C0GENERAL"


@pytest.fixture
def mock_slack(monkeypatch) -> Iterator[MockSlack]:
    state, server = start_mock_slack()
    monkeypatch.setenv("SLACK_API_URL", state.url)  # the bot finds the mock the way a proxy would be configured
    yield state
    server.shutdown()
    server.server_close()


@dataclass
class SlackEndpoint:
    """Sends Slack-shaped, correctly signed requests to POST /slack/events over real HTTP."""

    url: str
    mock: MockSlack
    settings: Settings

    def headers(self, body: bytes, *, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}

    def post(self, body: bytes, content_type: str, *, extra_headers: dict | None = None, **sign) -> httpx.Response:
        headers = {"Content-Type": content_type, **self.headers(body, **sign), **(extra_headers or {})}
        return httpx.post(self.url, content=body, headers=headers, timeout=30)

    def event(self, event: dict, *, event_id: str | None = None, extra_headers: dict | None = None,
              **sign) -> httpx.Response:
        body = {
            "token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0APP0001", "type": "event_callback",
            "event": event, "event_id": event_id or f"Ev{time.monotonic_ns()}", "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
        return self.post(json.dumps(body).encode(), "application/json", extra_headers=extra_headers, **sign)

    def mention(self, text: str, *, channel: str = CHANNEL, user: str = HEAD, thread_ts: str | None = None,
                event_id: str | None = None) -> tuple[dict, httpx.Response]:
        """A person mentions the bot: the message is stored in the mock, then the event is delivered."""
        message = self.mock.add_message(channel, f"<@{BOT_USER_ID}> {text}", user=user, thread_ts=thread_ts)
        event = {**message, "type": "app_mention", "channel": channel}
        return message, self.event(event, event_id=event_id)

    def message(self, text: str, *, channel: str = CHANNEL, user: str = HEAD, thread_ts: str | None = None,
                channel_type: str = "channel", **extra) -> tuple[dict, httpx.Response]:
        message = self.mock.add_message(channel, text, user=user, thread_ts=thread_ts, **extra)
        event = {"channel": channel, "channel_type": channel_type, "event_ts": message["ts"], **message}
        return message, self.event(event)

    def command(self, text: str, *, user: str = HEAD, channel: str = CHANNEL, response: str = "cmd") -> httpx.Response:
        form = {
            "token": "legacy", "team_id": TEAM_ID, "channel_id": channel, "channel_name": "general",
            "user_id": user, "user_name": "head", "command": "/partnership", "text": text,
            "api_app_id": "A0APP0001", "response_url": self.mock.response_url(response),
            "trigger_id": "1.2.3",
        }
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")

    def click(self, button: dict, *, user: str = HEAD, channel: str = CHANNEL, message: dict | None = None,
              response: str = "act") -> httpx.Response:
        """A click on `button` (a button element from blocks we posted), on a public `message` or an ephemeral one."""
        payload = {
            "type": "block_actions", "team": {"id": TEAM_ID}, "user": {"id": user},
            "api_app_id": "A0APP0001", "token": "legacy", "trigger_id": "1.2.3",
            "channel": {"id": channel, "name": "general"}, "response_url": self.mock.response_url(response),
            "container": ({"type": "message", "message_ts": message["ts"], "channel_id": channel, "is_ephemeral": False}
                          if message else {"type": "message", "message_ts": "1.1", "channel_id": channel, "is_ephemeral": True}),
            "actions": [{"type": button.get("type", "button"), "action_id": button["action_id"], "block_id": button.get("block_id", "b"),
                         "value": button["value"], "text": button["text"], "action_ts": str(time.time())}],
        }
        if message:
            payload["message"] = message
        return self.post(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")

    def feedback_rows(self) -> list[dict]:
        return FeedbackStore(self.settings.feedback_db).all()


@pytest.fixture
def slack_endpoint(mock_slack) -> Iterator[Callable[..., SlackEndpoint]]:
    """Factory: the HTTP service with the Slack router, for a given Assistant and Settings overrides."""
    from integrations.http.app import create_app
    from integrations.slack.http_mount import body_limits, slack_router

    stops: list[Callable[[], None]] = []

    def make(assistant, **overrides) -> SlackEndpoint:
        settings = Settings(**overrides)  # the per-test PARTNERSHIP_DATA_DIR: a fresh feedback database
        router = slack_router(token=BOT_TOKEN, signing_secret=SIGNING_SECRET)
        app = create_app(settings, assistant, extra_routers=[router], body_limits=body_limits(), builder=None)
        base, stop = serve_in_thread(app)
        stops.append(stop)
        return SlackEndpoint(url=f"{base}/slack/events", mock=mock_slack, settings=settings)

    yield make
    for stop in stops:
        stop()


@pytest.fixture
def slack(slack_endpoint, assistant) -> SlackEndpoint:
    """The bot over HTTP, answering from the real corpus (session Assistant)."""
    return slack_endpoint(assistant)

