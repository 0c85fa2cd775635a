"""What the listeners share: the Assistant, the feedback store, limits, and recent answers."""
from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.calculator import CalcRequest
from assistant.config import Settings
from assistant.core import Assistant
from assistant.errors import AssistantError, IndexEmptyError, QuestionError, StoreUnavailableError
from assistant.feedback import FeedbackStore
from assistant.models import Answer, Filters, Message
from assistant.partnerships import resolve_partnership
from integrations.slack.blocks import answer_blocks, answer_text, escape, notice_blocks
from integrations.slack.calc_inputs import change_inputs_block
from integrations.slack.dedupe import EventDeduplicator
from integrations.slack.ratelimit import UserRateLimiter

log = logging.getLogger("partnership.slack")

WORKING_EMOJI = "hourglass_flowing_sand"
REMEMBERED_ANSWERS = 2000


@dataclass
class Asked:
    """A question and the answer given, kept so Share and feedback clicks can refer back to them."""

    question: str
    answer: Answer
    history: list[Message] = field(default_factory=list)  # what the answer was given, stored with a rating
    partnership: str | None = None


@dataclass
class Reply:
    """A message ready to post: blocks plus the plain-text fallback."""

    text: str
    blocks: list[dict]
    asked: Asked | None = None
    ref: str | None = None


class AnswerMemory:
    """The most recent answers by reference (bounded). Ephemeral answers are not returned to us by
    Slack when their buttons are clicked, so Share and feedback look the answer up here."""

    def __init__(self, size: int = REMEMBERED_ANSWERS):
        self.size = size
        self._items: OrderedDict[str, Asked] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, asked: Asked) -> str:
        ref = uuid.uuid4().hex[:16]
        with self._lock:
            self._items[ref] = asked
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return ref

    def get(self, ref: str | None) -> Asked | None:
        with self._lock:
            return self._items.get(ref) if ref else None


@dataclass
class SlackBot:
    """The Slack adapter's state; listeners receive it by closure (no module-level globals)."""

    assistant: Assistant
    settings: Settings
    feedback: FeedbackStore
    limiter: UserRateLimiter
    dedupe: EventDeduplicator = field(default_factory=EventDeduplicator)
    answers: AnswerMemory = field(default_factory=AnswerMemory)

    def answer(self, question: str, history: list[Message] | None = None, request: CalcRequest | None = None,
               partnership: str | None = None) -> Answer | str:
        """The Assistant's answer (the calculator's for `request`; only `partnership`'s documents when given),
        or a user-facing (already escaped) reason why there is none, e.g. an unknown partnership."""
        try:
            if request is not None:
                return self.assistant.calculate(request)
            filters = None
            if partnership is not None:
                filters = Filters(partnership=resolve_partnership(partnership, self.assistant.documents()))
            return self.assistant.ask(question, history or [], filters=filters)
        except Exception as exc:
            return failure_message(exc)

    def reply(self, question: str, history: list[Message] | None = None, *, private: bool = False,
              asked_by: str | None = None, request: CalcRequest | None = None,
              partnership: str | None = None) -> Reply:
        """Answer `question` (or calculate `request`) and lay it out; `private` adds the Share button."""
        result = self.answer(question, history, request, partnership)
        if isinstance(result, str):
            return Reply(text=result, blocks=notice_blocks(result))
        return self.layout(Asked(question, result, list(history or []), partnership), private=private, asked_by=asked_by)

    def layout(self, asked: Asked, *, private: bool = False, asked_by: str | None = None,
               ref: str | None = None) -> Reply:
        ref = ref or self.answers.put(asked)
        blocks = answer_blocks(asked.answer, ref=ref, question=asked.question, share=private, asked_by=asked_by)
        if change := change_inputs_block(asked.answer):  # before the first row of buttons (share/feedback)
            at = next((i for i, b in enumerate(blocks) if b.get("type") in ("actions", "context_actions")), len(blocks))
            blocks.insert(at, change)
        return Reply(text=answer_text(asked.answer), blocks=blocks, asked=asked, ref=ref)


def failure_message(exc: Exception) -> str:
    """What to tell the person when answering raised `exc` (already escaped); a bug is logged, not shown."""
    if isinstance(exc, IndexEmptyError):
        return "The partnership documents haven't been indexed yet, so I can't answer. An admin needs to run `partnership ingest`."
    if isinstance(exc, StoreUnavailableError):
        return f"I can't reach the document store right now ({escape(str(exc))}). Please try again later."
    if isinstance(exc, (QuestionError, AssistantError)):
        return escape(str(exc))
    # a bug must not leave the user waiting in silence
    log.error("answering a Slack question failed", exc_info=exc)
    return "Sorry, something went wrong while answering. Please try again in a moment."


@contextmanager
def working(client: WebClient, channel: str, ts: str):
    """Show an hourglass reaction on the asking message while the answer is being prepared."""
    added = _react(client.reactions_add, channel, ts)
    try:
        yield
    finally:
        if added:
            _react(client.reactions_remove, channel, ts)


def _react(method, channel: str, ts: str) -> bool:
    try:
        method(channel=channel, timestamp=ts, name=WORKING_EMOJI)
        return True
    except SlackApiError as exc:  # e.g. already_reacted, missing scope: the answer matters more
        log.info("reaction %s failed: %s", method.__name__, exc.response.get("error"))
        return False
