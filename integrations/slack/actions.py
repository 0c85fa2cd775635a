"""Button clicks: 👍/👎 feedback (stored, buttons replaced by a thank-you) and "Share in channel"."""
from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.feedback import FeedbackError
from integrations.slack.blocks import FEEDBACK_DOWN, FEEDBACK_UP, SHARE, parse_button_value, thank_you_blocks, unescape
from integrations.slack.bot import Asked, SlackBot

log = logging.getLogger("partnership.slack")

UNKNOWN_ANSWER = "(the answer is no longer available)"


def _recall(bot: SlackBot, body: dict, value: str | None) -> tuple[str, str, Asked | None, str | None]:
    """(question, answer text, remembered answer, its reference) for a clicked button."""
    ref, question = parse_button_value(value)
    asked = bot.answers.get(ref)
    if asked:
        return asked.question, asked.answer.answer, asked, ref
    # Public messages come back with the click; their fallback text starts with the answer.
    message_text = unescape((body.get("message") or {}).get("text") or "")
    return question or "", message_text.split("\nSources: ")[0] or UNKNOWN_ANSWER, None, ref


def register(app: App, bot: SlackBot) -> None:
    """Attach the button listeners to `app`."""

    def record(rating: str, ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        user = (body.get("user") or {}).get("id")
        channel = (body.get("channel") or {}).get("id")
        question, answer, asked, ref = _recall(bot, body, action.get("value"))
        try:
            bot.feedback.add(source="slack", user_id=user, channel=channel, question=question or "(unknown question)",
                             answer=answer, rating=rating)
        except FeedbackError as exc:  # cannot happen with our two buttons; say so rather than fail silently
            log.error("feedback not stored: %s", exc)
            respond(text="Sorry, your feedback could not be recorded.", response_type="ephemeral", replace_original=False)
            return
        container = body.get("container") or {}
        message = body.get("message")
        if message and not container.get("is_ephemeral"):
            blocks = thank_you_blocks(message.get("blocks") or [], user, rating)
            client.chat_update(channel=channel, ts=message["ts"], text=message.get("text") or answer, blocks=blocks)
        elif asked:
            reply = bot.layout(asked, private=True, ref=ref)
            respond(text=reply.text, blocks=thank_you_blocks(reply.blocks, user, rating), replace_original=True)
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
        user = (body.get("user") or {}).get("id")
        channel = (body.get("channel") or {}).get("id")
        ref, question = parse_button_value(action.get("value"))
        asked = bot.answers.get(ref)
        if asked is None:
            if not question:
                respond(text="Sorry, that answer has expired; please ask again.", replace_original=False)
                return
            result = bot.answer(question)  # forgotten (e.g. after a restart): answer it again
            if isinstance(result, str):
                respond(text=result, replace_original=False)
                return
            asked = Asked(question, result)
        public = bot.layout(asked, asked_by=user)
        try:
            client.chat_postMessage(channel=channel, text=public.text, blocks=public.blocks,
                                    unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            if exc.response.get("error") not in ("not_in_channel", "channel_not_found"):
                raise
            # Not a member here: the response URL may still post on the asker's behalf.
            respond(text=public.text, blocks=public.blocks, response_type="in_channel", replace_original=False)
        respond(delete_original=True)
