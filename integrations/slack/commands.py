"""The `/partnership` slash command: `ask <question>`, `calc <description or flags>`, `help`.

Replies are ephemeral (only the asker sees them) and carry a "Share in channel" button.
"""
from __future__ import annotations

import logging
import re

from slack_bolt import Ack, App, Respond

from integrations.slack.blocks import HELP_TEXT, escape, notice_blocks
from integrations.slack.bot import SlackBot
from integrations.slack.payloads import slash_command

log = logging.getLogger("partnership.slack")

COMMAND = "/partnership"
USAGE = "Usage: `/partnership ask <question>`, `/partnership calc <description>` or `/partnership help`."
FLAG = re.compile(r"--?([a-z][a-z_-]*)(?:[= ]+(\"[^\"]*\"|'[^']*'|[^\s-][^\s]*))?", re.I)

COUNTED = {"pupils": "pupils", "pupil": "pupils", "fe": "FE", "members": "members"}


def calc_question(text: str) -> str:
    """The calculator request as a question for `Assistant.ask`.

    Free text is passed as it is ("420-pupil maintained primary in Ealing, scenario 2"); flags
    (`--partnership ealing --pupils 420 --phase primary --scenario 2 --maintained`) become the
    same kind of sentence, so one calculator router understands both.
    """
    text = text.strip()
    if not FLAG.match(text):
        return text
    words = []
    for name, value in FLAG.findall(text):
        name = name.lower().replace("-", " ").replace("_", " ")
        value = value.strip("\"'")
        if name in COUNTED and value:
            words.append(f"{value} {COUNTED[name]}")  # the router reads counts the way people write them
        else:
            words.append(f"{name} {value}" if value else name)
    return "Calculate the subscription for " + ", ".join(words)


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
        ack()  # within Slack's 3 seconds; the answer follows through response_url
        question = rest if sub == "ask" else calc_question(rest)
        reply = bot.reply(question, private=True)
        respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)
