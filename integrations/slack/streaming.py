"""Answers posted into a thread: a generative answer streamed as it is written (`chat.startStream` /
`appendStream` / `stopStream`, through slack_sdk's `chat_stream`), ending with the sources and the feedback
control; an answer that is ready at once (extractive, calculator, a decline) posted in one message as before.

Where streaming is refused (SlackApiError from chat.startStream: an older workspace, a missing scope, an
unknown method), the finished answer is posted with one `chat.postMessage`. The final Answer is
authoritative: when it differs from what was streamed (the citation check renumbered markers, the figures
guard or the fallback replaced it), the streamed message is updated to it.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from itertools import chain

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.models import Answer, Message
from integrations.slack.blocks import escape, notice_blocks
from integrations.slack.bot import Asked, Reply, SlackBot, failure_message

log = logging.getLogger("partnership.slack")

BUFFER_CHARS = 120  # text gathered before each Slack call: a few calls a second, well under the rate limit
INTERRUPTED = "Sorry, something went wrong while answering. Please try again in a moment."


def post_answer(bot: SlackBot, client: WebClient, *, channel: str, thread_ts: str, question: str,
                history: list[Message], user: str | None = None, team: str | None = None) -> None:
    """Answer `question` in the thread `thread_ts` of `channel`, streamed when the answer is being written.

    Args:
        user, team: who asked (Slack needs the recipient to stream into a channel).
    """
    try:
        items = bot.assistant.ask_stream(question, history)
        first, second = next(items), next(items)
    except Exception as exc:
        text = failure_message(exc)
        post(client, channel, thread_ts, Reply(text=text, blocks=notice_blocks(text)))
        return
    if isinstance(second, Answer):  # ready at once: one message, as always
        post(client, channel, thread_ts, bot.layout(Asked(question, second, list(history))))
        return
    stream_answer(bot, client, channel, thread_ts, question, [first, second], items, user, team, history)


def post(client: WebClient, channel: str, thread_ts: str, reply: Reply) -> None:
    client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=reply.text, blocks=reply.blocks,
                            unfurl_links=False, unfurl_media=False)


def stream_answer(bot: SlackBot, client: WebClient, channel: str, thread_ts: str, question: str,
                  head: list[str], rest: Iterator[str | Answer], user: str | None, team: str | None,
                  history: list[Message] | None = None) -> None:
    streamer = client.chat_stream(channel=channel, thread_ts=thread_ts, recipient_user_id=user,
                                  recipient_team_id=team, buffer_size=BUFFER_CHARS)
    streamed: list[str] = []
    final: Answer | None = None
    try:
        try:
            for item in chain(head, rest):
                if isinstance(item, Answer):
                    final = item
                    break
                streamed.append(item)
                streamer.append(markdown_text=escape(item))
        except SlackApiError:
            raise
        except Exception as exc:  # a bug while answering: end the message with an apology, no traceback
            log.error("streaming a Slack answer failed", exc_info=exc)
            streamer.stop(markdown_text=f"\n\n{INTERRUPTED}")
            return
        if final is None:
            streamer.stop(markdown_text=f"\n\n{INTERRUPTED}")
            return
        reply = bot.layout(Asked(question, final, list(history or [])))
        # The streamed text is the message's body; what follows it is the sources and the feedback control.
        streamer.stop(blocks=[b for b in reply.blocks if b.get("type") != "section"])
    except SlackApiError as exc:
        if streamer.ts is not None:
            # The stream was started and then broke (appendStream or stopStream refused): the person has part
            # of an answer. Finish it and put the whole answer in that message, or in a new one.
            log.warning("the Slack stream broke (%s); replacing it with the finished answer", exc.response.get("error"))
            final = final or finish(rest)
            reply = (bot.layout(Asked(question, final, list(history or []))) if final
                     else Reply(INTERRUPTED, notice_blocks(INTERRUPTED)))
            try:
                client.chat_update(channel=channel, ts=streamer.ts, text=reply.text, blocks=reply.blocks)
            except SlackApiError:
                post(client, channel, thread_ts, reply)
            return
        # chat.startStream refused (it is first called once some text has gathered, or at stop).
        log.info("streaming refused (%s); posting the answer in one message", exc.response.get("error"))
        final = final or finish(rest)  # the model keeps writing; the person gets the finished answer
        post(client, channel, thread_ts,
             bot.layout(Asked(question, final, list(history or []))) if final else Reply(INTERRUPTED, notice_blocks(INTERRUPTED)))
        return
    finally:
        close = getattr(rest, "close", None)
        if close:
            close()  # however this ended, the model stops generating
    if "".join(streamed).strip() != final.answer.strip():
        # The checks changed the answer (renumbered citations, a replaced figure, the fallback): show the final one.
        client.chat_update(channel=channel, ts=streamer.ts, text=reply.text, blocks=reply.blocks)


def finish(rest: Iterator[str | Answer]) -> Answer | None:
    for item in rest:
        if isinstance(item, Answer):
            return item
    return None
