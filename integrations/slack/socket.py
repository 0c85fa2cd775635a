"""Socket Mode: the bot connects out to Slack over a websocket, so no public URL is needed."""
from __future__ import annotations

import logging
import time

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import build_headers, send_response
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from assistant.config import Settings
from assistant.core import Assistant
from integrations.slack.app import build_slack_app
from integrations.slack.payloads import MalformedPayload, bolt_request

log = logging.getLogger("partnership.slack")

# Statuses after which Slack's resend of the envelope could only fail the same way: acknowledge them.
FINAL_STATUSES = (400, 404)


class SlackConfigError(ValueError):
    """A SLACK_* setting that Socket Mode needs is not set (their kinds are checked by `Settings`)."""


def socket_tokens(settings: Settings) -> tuple[str, str]:
    """(bot token, app token) from `settings` (SLACK_BOT_TOKEN, SLACK_APP_TOKEN), with a clear error if absent."""
    bot_token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    missing = [name for name, value in (("SLACK_BOT_TOKEN", bot_token), ("SLACK_APP_TOKEN", app_token)) if not value]
    if missing:
        raise SlackConfigError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: Socket Mode needs the bot token "
            "(xoxb-…, OAuth & Permissions) and an app-level token with connections:write (xapp-…, Basic Information)."
        )
    return bot_token, app_token


class ScreenedSocketModeHandler(SocketModeHandler):
    """bolt's Socket Mode handler, with each envelope's payload screened by `payloads.bolt_request`.

    A payload that cannot be read, or that no listener handles, is acknowledged without being acted
    on; bolt's own handler would leave it unacknowledged and Slack would resend it.
    """

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        start = time.time()
        try:
            bolt_req = bolt_request(lambda: BoltRequest(mode="socket_mode", body=req.payload, headers=build_headers(req)))
        except MalformedPayload as exc:
            log.warning("dropped a malformed Socket Mode envelope %s: %s", req.envelope_id, exc)
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        response = self.app.dispatch(bolt_req)
        if response.status in FINAL_STATUSES:
            response = BoltResponse(status=200, body="")
        send_response(client, req, response, start)


def socket_mode_handler(assistant: Assistant, settings: Settings, *, bot_token: str, app_token: str) -> SocketModeHandler:
    """The Socket Mode runner for the bot; call `.start()` to connect (blocks) or `.connect()`."""
    app = build_slack_app(assistant, settings, token=bot_token)
    return ScreenedSocketModeHandler(app, app_token)
