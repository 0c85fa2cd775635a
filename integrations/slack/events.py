"""Event listeners: mentions in channels, direct messages, and follow-ups in threads we answered."""
from __future__ import annotations

import logging
import re

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.models import Message
from integrations.slack.blocks import HELP_TEXT, notice_blocks, unescape
from integrations.slack.streaming import post_answer
from integrations.slack.bot import SlackBot, working
from integrations.slack.payloads import PersonMessage, person_message

log = logging.getLogger("partnership.slack")

HISTORY_MESSAGES = 20  # earlier thread messages handed to the Assistant
REPLIES_LIMIT = 200


def strip_mentions(text: str, bot_user_id: str | None) -> str:
    """The question without the bot's `<@U…>` mention (other mentions stay, unescaped)."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", text)
    return re.sub(r"\s+", " ", unescape(text)).strip()


def is_ignorable(event: dict, context: BoltContext) -> bool:
    """Edits, deletions, joins and other subtypes, and any bot's messages (including ours)."""
    if event.get("subtype") or event.get("bot_id") or event.get("bot_profile"):
        return True
    user = event.get("user")
    return not user or user == context.bot_user_id


def _from_bot(message: dict, context: BoltContext) -> bool:
    return bool(
        (context.bot_user_id and message.get("user") == context.bot_user_id)
        or (context.bot_id and message.get("bot_id") == context.bot_id)
    )


def thread_history(client: WebClient, context: BoltContext, channel: str, thread_ts: str,
                   before_ts: str) -> tuple[list[Message], bool]:
    """Earlier messages of the thread as history, and whether the bot has already answered in it."""
    try:
        replies = client.conversations_replies(channel=channel, ts=thread_ts, limit=REPLIES_LIMIT)
    except SlackApiError as exc:
        log.warning("conversations.replies failed in %s: %s", channel, exc.response.get("error"))
        return [], False
    history: list[Message] = []
    bot_answered = False
    for message in replies.get("messages") or []:
        if float(message.get("ts", 0)) >= float(before_ts):
            continue
        if _from_bot(message, context):
            bot_answered = True
            content = unescape(message.get("text") or "").strip()
            role = "assistant"
        elif message.get("bot_id") or message.get("subtype"):
            continue  # other bots and system messages are not part of the conversation
        else:
            content = strip_mentions(message.get("text") or "", context.bot_user_id)
            role = "user"
        if content:
            history.append(Message(role=role, content=content))
    return history[-HISTORY_MESSAGES:], bot_answered


def answer_in_thread(bot: SlackBot, client: WebClient, context: BoltContext, post: PersonMessage,
                     history: list[Message]) -> None:
    """Rate-limit, show the working reaction, ask the Assistant and post the reply in the thread."""
    thread_ts = post.thread_ts or post.ts
    question = strip_mentions(post.text, context.bot_user_id)
    if not question:
        client.chat_postMessage(channel=post.channel, thread_ts=thread_ts, text=HELP_TEXT, blocks=notice_blocks(HELP_TEXT))
        return
    wait = bot.limiter.hit(post.user)
    if wait is not None:
        client.chat_postEphemeral(channel=post.channel, user=post.user, thread_ts=thread_ts,
                                  text=bot.limiter.message(wait))
        return
    with working(client, post.channel, post.ts):  # the hourglass goes once the answer is posted
        post_answer(bot, client, channel=post.channel, thread_ts=thread_ts, question=question, history=history,
                    user=post.user, team=context.team_id)


def _person_message(event: dict, context: BoltContext) -> PersonMessage | None:
    """The event as a question from a person, or None: ignorable (bots, edits, ...) or malformed."""
    if is_ignorable(event, context):
        return None
    post = person_message(event)
    if post is None:
        log.warning("ignoring a malformed %s event", event.get("type"))
    return post


def register(app: App, bot: SlackBot) -> None:
    """Attach the event listeners to `app`. Events are acknowledged by bolt before these run."""

    @app.event("app_mention")
    def on_mention(event: dict, context: BoltContext, client: WebClient) -> None:
        post = _person_message(event, context)
        if post is None:
            return
        history: list[Message] = []
        if post.thread_ts:
            history, _ = thread_history(client, context, post.channel, post.thread_ts, post.ts)
        answer_in_thread(bot, client, context, post, history)

    @app.event("message")
    def on_message(event: dict, context: BoltContext, client: WebClient) -> None:
        post = _person_message(event, context)
        if post is None:
            return
        mentioned = bool(context.bot_user_id) and f"<@{context.bot_user_id}" in post.text
        if not post.direct and (mentioned or not post.thread_ts):
            return  # channel messages: mentions are answered by on_mention, the rest is not for us
        history: list[Message] = []
        if post.thread_ts:
            history, bot_answered = thread_history(client, context, post.channel, post.thread_ts, post.ts)
            if not post.direct and not bot_answered:
                return  # someone else's thread: stay quiet unless mentioned
        answer_in_thread(bot, client, context, post, history)
