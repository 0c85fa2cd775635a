"""Builds the bolt App: one Assistant passed in, listeners registered by kind (events, commands, actions)."""
from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from assistant.config import Settings
from assistant.core import Assistant
from assistant.feedback import FeedbackStore
from integrations.slack import actions, calc_modal, commands, events
from integrations.slack.assistant_thread import build_assistant
from integrations.slack.bot import SlackBot
from integrations.slack.dedupe import EventDeduplicator
from integrations.slack.ratelimit import UserRateLimiter

log = logging.getLogger("partnership.slack")

def web_client(token: str, settings: Settings) -> WebClient:
    """A Web API client for `token` at `settings.slack_api_url` (SLACK_API_URL, or Slack's own)."""
    return WebClient(token=token, base_url=settings.slack_api_url)


def build_slack_app(
    assistant: Assistant,
    settings: Settings,
    *,
    token: str,
    signing_secret: str | None = None,
    client: WebClient | None = None,
    feedback: FeedbackStore | None = None,
) -> App:
    """The Slack bot as a bolt App, for Socket Mode (`socket.py`) or HTTP events (`http_mount.py`).

    Args:
        assistant: answers every question (`Assistant.ask`).
        settings: limits (`slack_rate_limit_per_minute`) and the feedback database path.
        token: the bot token (`xoxb-…`).
        signing_secret: verifies HTTP requests; not needed in Socket Mode.
        client: a ready WebClient; by default one for `token` at `settings.slack_api_url`.
        feedback: the feedback store; by default the one at `settings.feedback_db`.

    Listeners ack at once and answer afterwards (process_before_response=False): bolt runs them in
    its thread pool after acknowledging, over HTTP and Socket Mode alike.
    """
    client = client or web_client(token, settings)
    app = App(
        client=client,
        signing_secret=signing_secret or "",
        # Socket Mode requests are authenticated by the socket; HTTP ones by their signature.
        request_verification_enabled=bool(signing_secret),
        process_before_response=False,
        name="partnership-slack",
    )
    bot = SlackBot(
        assistant=assistant,
        settings=settings,
        feedback=feedback or FeedbackStore(settings.feedback_db),
        limiter=UserRateLimiter(settings.slack_rate_limit_per_minute),
        dedupe=EventDeduplicator(),
    )
    app.use(bot.dedupe.middleware)
    app.assistant(build_assistant(bot))  # assistant threads first; other DMs and mentions fall through
    events.register(app, bot)
    commands.register(app, bot)
    actions.register(app, bot)
    calc_modal.register(app, bot)
    return app
