"""Socket Mode: the bot connects out to Slack over a websocket, so no public URL is needed."""
from __future__ import annotations

import os

from slack_bolt.adapter.socket_mode import SocketModeHandler

from assistant.config import Settings
from assistant.core import Assistant
from integrations.slack.app import build_slack_app


class SlackConfigError(ValueError):
    """A required SLACK_* variable is missing or malformed."""


def socket_tokens() -> tuple[str, str]:
    """(bot token, app token) from SLACK_BOT_TOKEN and SLACK_APP_TOKEN, with a clear error if absent."""
    bot_token = (os.environ.get("SLACK_BOT_TOKEN") or "").strip()
    app_token = (os.environ.get("SLACK_APP_TOKEN") or "").strip()
    missing = [name for name, value in (("SLACK_BOT_TOKEN", bot_token), ("SLACK_APP_TOKEN", app_token)) if not value]
    if missing:
        raise SlackConfigError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: Socket Mode needs the bot token "
            "(xoxb-…, OAuth & Permissions) and an app-level token with connections:write (xapp-…, Basic Information)."
        )
    if not app_token.startswith("xapp-"):
        raise SlackConfigError("SLACK_APP_TOKEN must be an app-level token starting with 'xapp-'.")
    return bot_token, app_token


def socket_mode_handler(assistant: Assistant, settings: Settings, *, bot_token: str, app_token: str) -> SocketModeHandler:
    """The Socket Mode runner for the bot; call `.start()` to connect (blocks) or `.connect()`."""
    app = build_slack_app(assistant, settings, token=bot_token)
    return SocketModeHandler(app, app_token)
