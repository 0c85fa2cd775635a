"""Button clicks: 👍/👎 feedback (stored, buttons replaced by a thank-you; a 👎 opens "What was wrong?") and
"Share in channel"."""
from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.feedback import FeedbackError
from assistant.provenance import answered_by, index_marker
from integrations.slack import feedback_modal
from integrations.slack.blocks import FEEDBACK, FEEDBACK_DOWN, FEEDBACK_UP, SHARE, parse_rating, thank_you_blocks, unescape
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


def _reproduction(bot: SlackBot, asked: Asked | None) -> dict:
    """What reproduces a remembered answer, stored with its rating (nothing for a forgotten one)."""
    if asked is None:
        return {}
    try:
        marker = index_marker(bot.assistant)
    except Exception:  # the store is down: the rating still counts
        marker = None
    return {"history": [m.model_dump() for m in asked.history],
            "filters": {"partnership": asked.partnership} if asked.partnership else None,
            "citations": [c.model_dump() for c in asked.answer.citations],
            "backend": answered_by(bot.assistant, asked.answer), "index_marker": marker}


def _documents(bot: SlackBot) -> list[dict]:
    try:
        return bot.assistant.documents()
    except Exception:  # no list of documents: the modal asks only what was wrong
        return []


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
            row = bot.feedback.add(source="slack", user_id=click.user, channel=click.channel,
                                   question=question or "(unknown question)", answer=answer, rating=rating,
                                   **_reproduction(bot, asked))
        except FeedbackError as exc:  # cannot happen with our two buttons; say so rather than fail silently
            log.error("feedback not stored: %s", exc)
            respond(text="Sorry, your feedback could not be recorded.", response_type="ephemeral", replace_original=False)
            return
        if rating == "down" and body.get("trigger_id"):  # ask what was wrong (optional: Skip closes it)
            try:
                client.views_open(trigger_id=body["trigger_id"], view=feedback_modal.modal(row, _documents(bot)))
            except SlackApiError as exc:  # the rating is stored; the detail is a bonus
                log.warning("could not open the feedback modal: %s", exc.response.get("error"))
        if click.message:  # a public message: replace its buttons for everyone
            blocks = thank_you_blocks(click.message.get("blocks") or [], click.user, rating)
            client.chat_update(channel=click.channel, ts=click.message["ts"], text=click.message.get("text") or answer,
                               blocks=blocks)
        elif asked:
            reply = bot.layout(asked, private=True, ref=click.ref)
            respond(text=reply.text, blocks=thank_you_blocks(reply.blocks, click.user, rating), replace_original=True)
        else:
            respond(text="Thanks for the feedback!", replace_original=False, response_type="ephemeral")

    @app.action(FEEDBACK)
    def on_feedback(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        rating = parse_rating(action.get("value"))
        if rating is None:
            ack()
            log.warning("ignoring a malformed click on %s", FEEDBACK)
            return
        record(rating, ack, body, action, client, respond)

    @app.view(feedback_modal.CALLBACK)
    def on_feedback_detail(ack: Ack, view: dict) -> None:
        ack()
        row, comment, expected = feedback_modal.submitted(view)
        if row is None or not (comment or expected):
            return
        if not bot.feedback.add_detail(row, comment=comment, expected_source=expected):
            log.warning("feedback detail for unknown row %s", row)

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
