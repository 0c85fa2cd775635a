"""`POST /slack/events` on the FastAPI service: events, slash commands and interactions over HTTP.

The HTTP app mounts this router through `create_app(extra_routers=[...])`; it reads the shared
Assistant and Settings from `request.app.state`, so the model is loaded once per process.
"""
from __future__ import annotations

import logging
import threading

from fastapi import APIRouter, HTTPException, Request, Response
from slack_bolt import App
from slack_bolt.adapter.fastapi import SlackRequestHandler
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool

from assistant.config import Settings
from assistant.core import Assistant
from integrations.slack.app import build_slack_app
from integrations.slack.payloads import MalformedPayload, bolt_request

log = logging.getLogger("partnership.slack")

EVENTS_PATH = "/slack/events"
# Slack sends messages of up to 40,000 characters, and an event carries the text twice (text and blocks):
# the API's 64 KB would refuse a long mention, Slack would retry, and nobody would get the "too long" reply.
EVENTS_MAX_BYTES = 1024 * 1024


def body_limits() -> dict[str, int]:
    """The body limit the HTTP app should apply to the events route (`create_app(body_limits=...)`)."""
    return {EVENTS_PATH: EVENTS_MAX_BYTES}


def _signed(verifier: SignatureVerifier, body: bytes, headers: dict) -> bool:
    """The signature check, False (not an exception) for a body that is not UTF-8 or a timestamp that is
    not a number: both arrive before any signature is known to be good, so anyone can send them."""
    try:
        return verifier.is_valid_request(body, headers)
    except ValueError:  # UnicodeDecodeError, or int() of the X-Slack-Request-Timestamp header
        return False


def slack_router(
    *,
    token: str,
    signing_secret: str,
    assistant: Assistant | None = None,
    settings: Settings | None = None,
    client: WebClient | None = None,
) -> APIRouter:
    """A router with `POST /slack/events`; the bolt App is built on the first verified request."""
    if not signing_secret:
        raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET to verify that requests come from Slack.")
    verifier = SignatureVerifier(signing_secret)
    router = APIRouter(tags=["slack"])
    built: dict[str, SlackRequestHandler] = {}
    lock = threading.Lock()

    def handler_for(request: Request) -> SlackRequestHandler:
        with lock:
            if "handler" not in built:
                shared = assistant or getattr(request.app.state, "assistant", None)
                if shared is None:
                    raise HTTPException(503, "The assistant is still starting.")
                app = build_slack_app(shared, settings or request.app.state.settings, token=token,
                                      signing_secret=signing_secret, client=client)
                built["handler"] = SlackRequestHandler(app)
            return built["handler"]

    def dispatch(app: App, request: Request, body: bytes) -> Response:
        try:
            bolt_req = bolt_request(lambda: to_bolt_request(request, body))
        except MalformedPayload as exc:  # signed, but not something Slack sends: refuse it, act on nothing
            log.warning("refused a malformed Slack payload: %s", exc)
            return Response(f"Malformed Slack payload: {exc}.", status_code=400, media_type="text/plain")
        return to_starlette_response(app.dispatch(bolt_req))

    @router.post(EVENTS_PATH, include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        # Checked here as well as by bolt, so forged or replayed requests get 401 even before the
        # bot exists (e.g. while the assistant is still loading).
        if not _signed(verifier, body, dict(request.headers)):
            return Response("invalid or stale Slack signature", status_code=401, media_type="text/plain")
        handler = await run_in_threadpool(handler_for, request)
        # bolt's dispatch blocks until the listener acks; run it off the event loop so other
        # HTTP requests are not held up (SlackRequestHandler.handle would run it inline).
        return await run_in_threadpool(dispatch, handler.app, request, body)

    return router


def slack_router_from_settings(settings: Settings, **kwargs) -> APIRouter | None:
    """The router when `settings` has both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, else None."""
    if not (settings.slack_bot_token and settings.slack_signing_secret):
        return None
    return slack_router(token=settings.slack_bot_token.get_secret_value(),
                        signing_secret=settings.slack_signing_secret.get_secret_value(), settings=settings, **kwargs)
