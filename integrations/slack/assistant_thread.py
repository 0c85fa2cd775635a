"""Slack's AI-app surface (bolt's `Assistant` middleware): the assistant side panel's suggested prompts,
the "is searching…" status, the thread title, and answers in assistant threads with the thread as history."""
from __future__ import annotations

import logging

from slack_bolt import Assistant, BoltContext, Say, SaveThreadContext, SetStatus, SetSuggestedPrompts, SetTitle
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.calculator.router import route_calculation
from assistant.models import Message
from integrations.slack.bot import SlackBot
from integrations.slack.events import _person_message, strip_mentions, thread_history
from integrations.slack.streaming import post_answer

log = logging.getLogger("partnership.slack")

GREETING = "Hello! Ask me about the school partnerships' documents, or to work out a subscription."
PROMPTS_TITLE = "Try asking:"
# One for each kind of user (school business manager, governor, head); each is answered by the bundled corpus.
SUGGESTED_PROMPTS = [
    {"title": "Buy only the parts of ELP?", "message": "Can we buy only the parts of ELP we want?"},
    {"title": "A 2FE primary's subscription",
     "message": "How is a 2FE maintained primary's subscription worked out in Ealing under scenario 2?"},
    {"title": "Haringey's charge per pupil", "message": "What does Haringey charge per pupil?"},
    {"title": "Joining Hillingdon", "message": "What does the Hillingdon Learning Partnership cost to join?"},
]
SEARCHING = "is searching the partnership documents…"
CALCULATING = "is working out the subscription…"
APOLOGY = "Sorry, something went wrong while answering. Please try again in a moment."
TITLE_CHARS = 80


def status_for(question: str, history: list[Message]) -> str:
    """What the status says while answering: the calculator's router decides, as `Assistant.ask` will."""
    return CALCULATING if route_calculation(question, history) is not None else SEARCHING


def _quietly(call: SetStatus | SetTitle, value: str) -> None:
    """Status and title are decoration: a DM thread that is not an assistant thread (or a missing scope)
    refuses them, and the answer still matters more."""
    try:
        call(value)
    except SlackApiError as exc:
        log.info("%s failed: %s", type(call).__name__, exc.response.get("error"))


def build_assistant(bot: SlackBot) -> Assistant:
    """The `Assistant` middleware for `app.assistant(...)`; thread context is kept by bolt's default
    store (message metadata on our greeting), which the default context_changed listener updates."""
    surface = Assistant()

    @surface.thread_started
    def started(say: Say, set_suggested_prompts: SetSuggestedPrompts, save_thread_context: SaveThreadContext,
                payload: dict) -> None:
        say(GREETING)  # the message the thread context is stored on
        channel_context = (payload.get("assistant_thread") or {}).get("context") or {}
        if channel_context.get("channel_id"):
            save_thread_context(channel_context)  # opened from a channel: remember which
        set_suggested_prompts(prompts=SUGGESTED_PROMPTS, title=PROMPTS_TITLE)

    @surface.user_message
    def on_user_message(event: dict, context: BoltContext, client: WebClient, say: Say, set_status: SetStatus,
                        set_title: SetTitle) -> None:
        post = _person_message(event, context)
        if post is None:
            return
        question = strip_mentions(post.text, context.bot_user_id)
        thread_ts = post.thread_ts or post.ts
        try:
            history, _ = thread_history(client, context, post.channel, thread_ts, post.ts)
            history = [m for m in history if not (m.role == "assistant" and m.content == GREETING)]
            if not any(m.role == "user" for m in history) and question:
                _quietly(set_title, question[:TITLE_CHARS])
            wait = bot.limiter.hit(post.user)
            if wait is not None:
                say(text=bot.limiter.message(wait))
                return
            _quietly(set_status, status_for(question, history))  # before retrieval
            # As in channel threads: a chat model's answer is streamed, any other is posted at once.
            post_answer(bot, client, channel=post.channel, thread_ts=thread_ts, question=question, history=history,
                        user=post.user, team=context.team_id)
            _quietly(set_status, "")
        except Exception:  # never a stack trace in Slack: clear the status and apologise
            log.exception("answering in an assistant thread failed")
            _quietly(set_status, "")
            try:
                say(text=APOLOGY)
            except SlackApiError as exc:
                log.warning("the apology could not be posted: %s", exc.response.get("error"))

    return surface
