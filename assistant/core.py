"""`Assistant.ask` — the one entry point used unchanged by the CLI, HTTP, Slack and eval."""
from __future__ import annotations

import atexit
import logging
import re
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from langchain_core.documents import Document

from assistant.answering import ExtractiveAnswerer
from assistant.config import Settings
from assistant.errors import IndexEmptyError, QuestionError
from assistant.models import Answer, Filters, Message
from assistant.off_task import off_task_reason
from assistant.retrieval import HybridRetriever, LexicalIndex
from assistant.store import ChunkStore
from assistant.text import STOPWORDS, stem, tokens

log = logging.getLogger(__name__)

QUESTION_WORDS = frozenset(
    "what how can is are do does will why who when where which tell give show explain list describe could "
    "would should hi hello thanks please and or but if so ok okay yes no".split()
)
FOLLOW_UP = re.compile(r"^(and|but|also|so|what about|how about|what if|and if|or)\b|\b(it|that|this|they|them|those|these)\b", re.I)

class AnswerBackend(Protocol):
    """An answerer other than the extractive default (e.g. a chat model). It receives only questions the
    evidence check let through, so it never gets the chance to answer from nothing."""

    name: str
    handles_calculations: bool  # True when the model calls the funding calculator itself (native tools)

    def rewrite(self, question: str, history: list[Message]) -> str | None: ...

    def answer(self, question: str, hits: list[Document], history: list[Message]) -> Answer: ...


def as_messages(history: Sequence[Message | dict] | None) -> list[Message]:
    return [m if isinstance(m, Message) else Message.model_validate(m) for m in (history or [])]


def as_filters(filters: Filters | dict | None) -> Filters | None:
    if filters is None or isinstance(filters, Filters):
        return filters
    return Filters.model_validate(filters)


def validate_question(question: str, max_chars: int) -> str:
    """The question, stripped; QuestionError if it is empty or longer than `max_chars`."""
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("The question is empty: type a question about the partnership documents.")
    if len(question) > max_chars:
        raise QuestionError(f"The question is {len(question):,} characters long; the limit is {max_chars:,}.")
    return question.strip()


class Assistant:
    """Answers questions from the indexed partnership documents.

    Args:
        settings: the configuration (thresholds, limits).
        store: the chunk store (Chroma collection) to search.
        retriever: hybrid dense + BM25 retriever over `store`.
        answerer: the extractive answerer (always available; also the fallback of other backends).
        calculator_router: recognises calculation questions and answers them with the funding calculator.
        backend: optional answer backend (e.g. a chat model); None means extractive answers.
    """

    def __init__(
        self,
        settings: Settings,
        store: ChunkStore,
        retriever: HybridRetriever,
        answerer: ExtractiveAnswerer,
        calculator_router: Callable[[str, list[Message]], Answer | None] | None = None,
        backend: AnswerBackend | None = None,
    ):
        self.settings = settings
        self.store = store
        self.retriever = retriever
        self.answerer = answerer
        self.warming = False  # True while warm_sentences_in_background runs
        self.calculator_router = calculator_router
        self.backend = backend

    # -- the entry point -------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: Sequence[Message | dict] | None = None,
        filters: Filters | dict | None = None,
    ) -> Answer:
        """Answer `question`, using `history` (earlier turns) for follow-ups.

        Args:
            question: the user's question (1–`max_question_chars` characters).
            history: earlier messages of the conversation, oldest first.
            filters: restrict retrieval to a partnership and/or document kind.

        Returns:
            An Answer whose every [n] marker refers to an entry of `citations`.

        Raises:
            QuestionError: empty or over-long question.
            IndexEmptyError: nothing has been ingested.
        """
        question = self.validate(question)
        if not self.store.has_documents():
            raise IndexEmptyError()
        messages = as_messages(history)
        filters = as_filters(filters)
        off_task = off_task_reason(question)
        if off_task:
            return self.answerer.decline(self.retrieve(question, filters), off_task)
        if self.calculator_router and not (self.backend and self.backend.handles_calculations):
            routed = self.calculator_router(question, messages)
            if routed is not None:
                return routed
        # Follow-ups are retrieved and answered as standalone questions ("and how often?" → about what).
        rewritten = self.backend.rewrite(question, messages) if self.backend and messages else None
        standalone = rewritten or self.standalone_question(question, messages)
        hits = self.retrieve(standalone, filters)
        reason = self.weak_evidence(standalone, hits)
        if reason:
            return self.answerer.decline(hits, reason)
        if self.backend:
            return self.backend.answer(question, hits, messages)
        answer = self.answerer.answer(standalone, hits, self.named_entities(standalone))
        return answer or self.answerer.decline(hits, "the passages I found don't address what you asked.")

    # -- pieces, public so eval and the benchmarks can measure them --------------------------------
    def validate(self, question: str) -> str:
        return validate_question(question, self.settings.max_question_chars)

    def retrieve(self, question: str, filters: Filters | dict | None = None) -> list[Document]:
        """The chunks the answer will be built from, best first (scores in metadata)."""
        if not self.store.has_documents():
            raise IndexEmptyError()
        return self.retriever.invoke(question, filters=as_filters(filters))

    def retrieval_trace(self, question: str, filters: Filters | dict | None = None) -> dict[str, list[Document]]:
        """Each retrieval stage's ranking, the final one last (eval reports where a passage is lost)."""
        if not self.store.has_documents():
            raise IndexEmptyError()
        return self.retriever.stages(question, as_filters(filters))

    @staticmethod
    def standalone_question(question: str, history: list[Message]) -> str:
        """Follow-ups ("and for secondaries?") are retrieved together with the previous question."""
        previous = next((m.content for m in reversed(history) if m.role == "user"), None)
        if previous and (len(question.split()) <= 6 or FOLLOW_UP.search(question)):
            return f"{previous} {question}"
        return question

    def weak_evidence(self, question: str, hits: list[Document]) -> str | None:
        """Why the documents don't answer `question`, or None when the evidence is good enough."""
        if not hits:
            return "nothing in them matches the question."
        unknown = self.unknown_names(question, self.retriever.lexical())
        if unknown:
            return f"they never mention {', '.join(unknown)}."
        semantic = max(float(h.metadata.get("dense", 0.0)) for h in hits[:3])
        semantic = max(semantic, self.answerer.qa_match(question, hits)[0])
        if semantic < self.settings.decline_threshold and not self.distinctive_match(question, hits[:3]):
            return "nothing in them is close enough to the question."
        return None

    @staticmethod
    def distinctive_match(question: str, hits: list[Document]) -> bool:
        """An acronym or figure from the question ("SAfE", "£13.76") appears in a top hit."""
        wanted = {t for t in tokens(question) if t.startswith("#") or t[:1].isdigit() or t.startswith("£")}
        return any(wanted & set(tokens(h.page_content)) for h in hits)

    @staticmethod
    def capitalised_words(question: str) -> list[str]:
        words = re.findall(r"\b[A-Z][A-Za-z'’-]+\b", question)
        return [w for w in words if re.split("['’]", w.lower())[0] not in STOPWORDS | QUESTION_WORDS]

    @classmethod
    def unknown_names(cls, question: str, lexical: LexicalIndex) -> list[str]:
        """Capitalised names and acronyms in the question that occur nowhere in the documents."""
        return [
            word
            for word in cls.capitalised_words(question)
            if not any(tok in lexical.vocabulary for tok in tokens(word))
            and stem(word.lower()) not in lexical.vocabulary
            and word.lower() not in lexical.names
        ]

    def named_entities(self, question: str) -> list[frozenset[str]]:
        """What an answer's source must mention: each capitalised name of the question, as its tokens
        (an initialism as its spelled-out name's tokens). "Supply agency in Harrow?" needs a Harrow passage."""
        lexical = self.retriever.lexical()
        required = []
        for word in self.capitalised_words(question):
            spelled = lexical.names.get(word.lower()) if word.isupper() else None
            toks = frozenset(t for t in tokens(spelled or word) if not t.startswith("#")) or frozenset(tokens(word))
            if toks:
                required.append(toks)
        return required

    def warm_up(self) -> None:
        """Build the BM25 index now, so the first question is not slow."""
        if self.is_ready():
            self.retriever.lexical()

    def warm_sentences(self, stop: threading.Event | None = None) -> int:
        """Embed the quotable sentences of every indexed chunk now, so no answer pays for them (about 10 s
        for the bundled corpus on two cores). Long-running adapters call it in the background at start."""
        return self.answerer.warm(list(self.retriever.lexical().docs.values()), stop) if self.is_ready() else 0

    def warm_sentences_in_background(self) -> threading.Thread:
        stop = threading.Event()

        def warm() -> None:
            try:
                self.warm_sentences(stop)
            except Exception:  # only a speed-up: answers embed what they need anyway
                log.exception("warming the sentence vectors failed")
            finally:
                self.warming = False

        def stop_at_exit() -> None:
            # A thread still inside torch when the interpreter finalises aborts the process (SIGABRT):
            # stop after the current small batch instead.
            stop.set()
            thread.join(timeout=30)

        self.warming = True
        thread = threading.Thread(target=warm, name="warm-sentences", daemon=True)
        thread.start()
        atexit.register(stop_at_exit)
        return thread

    def documents(self) -> list[dict]:
        """Indexed documents with title, kind, partnership and chunk count."""
        return self.store.documents_summary()

    def is_ready(self) -> bool:
        try:
            return self.store.has_documents()
        except Exception:  # a store that cannot even count is not ready
            return False
