"""Button clicks: 👍/👎 feedback (stored, buttons replaced by a thank-you) and "Share in channel"."""
from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.feedback import FeedbackError
from integrations.slack.blocks import FEEDBACK_DOWN, FEEDBACK_UP, SHARE, thank_you_blocks, unescape
from integrations.slack.bot import Asked, SlackBot
from integrations.slack.payloads import ButtonClick, button_click

log = logging.getLogger("partnership.slack")

UNKNOWN_ANSWER = "(the answer is no longer available)"


def _recall(bot: SlackBot, click: ButtonClick) -> tuple[str, str, Asked | None]:
    """(question, answer text, remembered answer) for a clicked button."""
    asked = bot.answers.get(click.ref)
    if asked:
        return asked.question, asked.answer.answer, asked
    # Forgotten (a restart): a public message comes back with the click; store what was shown, as shown.
    message_text = unescape((click.message or {}).get("text") or "")
    return click.question, message_text or UNKNOWN_ANSWER, None


def _click(body: dict, action: dict) -> ButtonClick | None:
    click = button_click(body, action)
    if click is None:
        log.warning("ignoring a malformed click on %s", action.get("action_id"))
    return click


def register(app: App, bot: SlackBot) -> None:
    """Attach the button listeners to `app`."""

    def record(rating: str, ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        click = _click(body, action)
        if click is None:
            return
        question, answer, asked = _recall(bot, click)
        try:
            bot.feedback.add(source="slack", user_id=click.user, channel=click.channel,
                             question=question or "(unknown question)", answer=answer, rating=rating)
        except FeedbackError as exc:  # cannot happen with our two buttons; say so rather than fail silently
            log.error("feedback not stored: %s", exc)
            respond(text="Sorry, your feedback could not be recorded.", response_type="ephemeral", replace_original=False)
            return
        if click.message:  # a public message: replace its buttons for everyone
            blocks = thank_you_blocks(click.message.get("blocks") or [], click.user, rating)
            client.chat_update(channel=click.channel, ts=click.message["ts"], text=click.message.get("text") or answer,
                               blocks=blocks)
        elif asked:
            reply = bot.layout(asked, private=True, ref=click.ref)
            respond(text=reply.text, blocks=thank_you_blocks(reply.blocks, click.user, rating), replace_original=True)
        else:
            respond(text="Thanks for the feedback!", replace_original=False, response_type="ephemeral")

    @app.action(FEEDBACK_UP)
    def on_thumbs_up(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        record("up", ack, body, action, client, respond)

    @app.action(FEEDBACK_DOWN)
    def on_thumbs_down(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        record("down", ack, body, action, client, respond)

    @app.action(SHARE)
    def on_share(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        click = _click(body, action)
        if click is None:
            return
        asked = bot.answers.get(click.ref)
        if asked is None:
            if not click.question:
                respond(text="Sorry, that answer has expired; please ask again.", replace_original=False)
                return
            result = bot.answer(click.question)  # forgotten (e.g. after a restart): answer it again
            if isinstance(result, str):
                respond(text=result, replace_original=False)
                return
            asked = Asked(click.question, result)
        public = bot.layout(asked, asked_by=click.user)
        try:
            client.chat_postMessage(channel=click.channel, text=public.text, blocks=public.blocks,
                                    unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            if exc.response.get("error") not in ("not_in_channel", "channel_not_found"):
                raise
            # Not a member here: the response URL may still post on the asker's behalf.
            respond(text=public.text, blocks=public.blocks, response_type="in_channel", replace_original=False)
        respond(delete_original=True)
