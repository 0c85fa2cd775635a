"""The `/partnership` slash command: `ask [--partnership NAME] <question>`, `calc <description or flags>`, `help`.

`calc` with flags builds the calculator request from them directly (as the CLI does); a description in
words is a question like any other.

Replies are ephemeral (only the asker sees them) and carry a "Share in channel" button.
"""
from __future__ import annotations

import logging
import re

from pydantic import ValidationError
from slack_bolt import Ack, App, Respond

from assistant.calculator import CalcRequest
from assistant.calculator.tool import explain_invalid

from integrations.slack.blocks import HELP_TEXT, escape, notice_blocks
from integrations.slack.bot import SlackBot
from integrations.slack.payloads import slash_command

log = logging.getLogger("partnership.slack")

COMMAND = "/partnership"
USAGE = "Usage: `/partnership ask <question>`, `/partnership calc <description>` or `/partnership help`."
FLAG = re.compile(r"--?([a-z][a-z_-]*)(?:[= ]+(\"[^\"]*\"|'[^']*'|[^\s-][^\s]*))?", re.I)

# `ask --partnership ealing <question>`: the name is one word, or quoted ("Ealing Learning Partnership").
ASK_PARTNERSHIP = re.compile(r"--partnership(?:=|\s+)(?:\"([^\"]*)\"|'([^']*)'|(\S+))\s*(.*)", re.I | re.S)
OPTIONS = ("partnership", "phase", "pupils", "fe", "scenario", "members", "schools", "pool")
SWITCHES = {"maintained": ("maintained", True), "academy": ("maintained", False), "derive": ("derive", True)}


class CalcFlagsError(ValueError):
    """Flags the calculator cannot use; the message (mrkdwn-safe) says which and what is accepted."""


def ask_partnership(text: str) -> tuple[str | None, str]:
    """(partnership, question) from `ask`'s text: `--partnership ealing how are fees set?` → ("ealing",
    "how are fees set?"); (None, text) without the flag. The name is resolved by the bot."""
    match = ASK_PARTNERSHIP.fullmatch(text.strip())
    if match is None:
        return None, text
    name = next(g for g in match.groups()[:3] if g is not None)
    return name, match.group(4).strip()


def calc_request(text: str) -> CalcRequest | None:
    """`--partnership ealing --pupils 420 --phase primary --scenario 2 --maintained` as a CalcRequest, the
    way `partnership calc` takes its options; None for a description in words (`Assistant.ask` routes it).

    Raises CalcFlagsError for an unknown flag, a flag without its value, or a value the calculator refuses.
    """
    if not FLAG.match(text.strip()):
        return None
    args: dict[str, object] = {}
    for name, value in FLAG.findall(text):
        key, value = name.lower().replace("-", "_"), value.strip("\"'")
        if key in SWITCHES and not value:
            field_name, setting = SWITCHES[key]
            args[field_name] = setting
        elif key in OPTIONS and value:
            args[key] = value
        else:
            accepted = ", ".join(f"`--{o} …`" for o in OPTIONS) + ", " + ", ".join(f"`--{s}`" for s in SWITCHES)
            problem = "needs a value" if key in OPTIONS else "is not a calculator option"
            raise CalcFlagsError(f"`--{escape(name)}` {problem}. Options: {accepted}.")
    try:
        return CalcRequest(**args)
    except ValidationError as exc:
        raise CalcFlagsError(escape(explain_invalid(exc))) from None


def register(app: App, bot: SlackBot) -> None:
    """Attach the slash command listener to `app`."""

    @app.command(COMMAND)
    def on_command(ack: Ack, command: dict, respond: Respond) -> None:
        typed = slash_command(command)
        if typed is None:  # Slack always sends these fields; without them there is nobody to answer
            log.warning("ignoring a malformed %s command", COMMAND)
            ack()
            return
        sub, _, rest = typed.text.strip().partition(" ")
        sub, rest = sub.lower(), rest.strip()
        if sub in ("", "help"):
            ack(text=HELP_TEXT, blocks=notice_blocks(HELP_TEXT), response_type="ephemeral")
            return
        if sub not in ("ask", "calc"):
            ack(text=f"I don't know `{escape(sub)}`. {USAGE}", response_type="ephemeral")
            return
        if not rest:
            example = "what does the Ealing subscription cover?" if sub == "ask" else "420-pupil maintained primary in Ealing, scenario 1"
            ack(text=f"Please add a {'question' if sub == 'ask' else 'description'}, e.g. `/partnership {sub} {example}`.",
                response_type="ephemeral")
            return
        wait = bot.limiter.hit(typed.user)
        if wait is not None:
            ack(text=bot.limiter.message(wait), response_type="ephemeral")
            return
        partnership, question = ask_partnership(rest) if sub == "ask" else (None, rest)
        if not question:
            ack(text="Please add a question after the partnership, e.g. "
                     "`/partnership ask --partnership ealing what does the subscription cover?`.",
                response_type="ephemeral")
            return
        try:
            request = calc_request(rest) if sub == "calc" else None
        except CalcFlagsError as exc:
            ack(text=str(exc), response_type="ephemeral")
            return
        ack()  # within Slack's 3 seconds; the answer follows through response_url
        reply = bot.reply(question, private=True, request=request, partnership=partnership)
        respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)
