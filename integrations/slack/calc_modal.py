"""The "Change inputs" button on a calculator answer: a modal pre-filled with the answer's inputs; submitting posts
the recomputed answer in the same thread. Figures only ever come from `Assistant.calculate`; a value the
calculator refuses is shown on its field (`response_action: errors`), not posted."""
from __future__ import annotations

import json
import logging

from pydantic import ValidationError
from slack_bolt import Ack, App
from slack_sdk import WebClient

from assistant.calculator import CalcRequest
from assistant.calculator.tool import explain_invalid
from integrations.slack.bot import Asked, SlackBot
from integrations.slack.calc_inputs import (
    CALLBACK,
    CHANGE_INPUTS,
    ERROR_CHARS,
    FIELDS,
    field_for,
    missing_field,
    modal,
    refusal,
    submitted_args,
)

log = logging.getLogger("partnership.slack")


def register(app: App, bot: SlackBot) -> None:
    """Attach the "Change inputs" button and the modal's submission to `app`."""

    @app.action(CHANGE_INPUTS)
    def on_change_inputs(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        try:
            inputs = json.loads(action.get("value") or "{}")
        except ValueError:
            inputs = {}
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        thread_ts = message.get("thread_ts") or container.get("thread_ts") or message.get("ts")
        metadata = {"channel": channel, "thread_ts": thread_ts, "private": bool(container.get("is_ephemeral"))}
        if not body.get("trigger_id") or not channel:  # Slack always sends both; without them no modal can open
            log.warning("ignoring a malformed click on %s", CHANGE_INPUTS)
            return
        client.views_open(trigger_id=body["trigger_id"], view=modal(inputs if isinstance(inputs, dict) else {}, metadata))

    @app.view(CALLBACK)
    def on_submit(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        args, errors = submitted_args((view.get("state") or {}).get("values") or {})
        if errors:
            ack(response_action="errors", errors=errors)
            return
        try:
            request = CalcRequest(**args)
        except ValidationError as exc:
            block = next((str(e["loc"][0]) for e in exc.errors() if e["loc"] and e["loc"][0] in FIELDS), "partnership")
            ack(response_action="errors", errors={block: explain_invalid(exc)[:ERROR_CHARS]})
            return
        answer = bot.answer("", request=request)  # the Assistant's calculator; store problems come back as text
        if isinstance(answer, str):
            ack(response_action="errors", errors={"partnership": answer[:ERROR_CHARS]})
            return
        reason = refusal(answer)
        if reason is not None:
            block = missing_field(request) or field_for(reason)
            ack(response_action="errors", errors={block: reason[:ERROR_CHARS]})
            return
        ack()
        where = json.loads(view.get("private_metadata") or "{}")
        user = (body.get("user") or {}).get("id")
        reply = bot.layout(Asked(answer.calculation.headline, answer), private=bool(where.get("private")))
        if where.get("private"):
            client.chat_postEphemeral(channel=where["channel"], user=user, text=reply.text, blocks=reply.blocks)
        else:
            client.chat_postMessage(channel=where["channel"], thread_ts=where.get("thread_ts"), text=reply.text,
                                    blocks=reply.blocks, unfurl_links=False, unfurl_media=False)
