"""`Assistant.ask` (and `ask_stream`, the same pipeline streamed) — the entry points used unchanged by the
CLI, HTTP, Slack and eval."""
from __future__ import annotations

import atexit
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence

from langchain_core.documents import Document

from assistant.answering import ExtractiveAnswerer, decline
from assistant.backends import NOTHING_ANSWERS, AnswerBackend, ExtractiveBackend, Turn, stream_answer
from assistant.calculator import CalcRequest, answer_calculation, answer_for_request
from assistant.config import Settings
from assistant.errors import IndexEmptyError, QuestionError
from assistant.evidence import Evidence
from assistant.models import Answer, Filters, Message
from assistant.off_task import off_task_reason
from assistant.retrieval import HybridRetriever
from assistant.memory import release_free_memory
from assistant.store import ChunkStore

log = logging.getLogger(__name__)

FOLLOW_UP = re.compile(r"^(and|but|also|so|what about|how about|what if|and if|or)\b|\b(it|that|this|they|them|those|these)\b", re.I)

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


class LazyTitles(Mapping[str, str]):
    """Document titles read from the store only when a calculation cites them (most questions are not
    calculations, and reading them costs two store reads)."""

    def __init__(self, load: Callable[[], dict[str, str]]):
        self._load = load
        self._titles: dict[str, str] | None = None

    def _get(self) -> dict[str, str]:
        if self._titles is None:
            self._titles = self._load()
        return self._titles

    def __getitem__(self, key: str) -> str:
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


class Assistant:
    """Answers questions from the indexed partnership documents.

    Args:
        settings: the configuration (thresholds, limits).
        store: the chunk store (Chroma collection) to search.
        retriever: hybrid dense + BM25 retriever over `store`.
        answerer: the extractive answerer (sentence scoring; warmed in the background by long-running adapters).
        backend: who writes document answers: the extractive backend over `answerer` by default, or a chat
            model composed with it as the fallback (built by the factory).
    """

    def __init__(
        self,
        settings: Settings,
        store: ChunkStore,
        retriever: HybridRetriever,
        answerer: ExtractiveAnswerer,
        backend: AnswerBackend | None = None,
    ):
        self.settings = settings
        self.store = store
        self.retriever = retriever
        self.answerer = answerer
        self.warming = False  # True while warm_sentences_in_background runs
        self.backend = backend or ExtractiveBackend(answerer)

    # -- the entry points ------------------------------------------------------------------------
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
        turn = self.prepare(question, history, filters)
        if isinstance(turn, Answer):
            return turn
        return self.backend.answer(turn) or decline(turn.hits, NOTHING_ANSWERS)

    def ask_stream(
        self,
        question: str,
        history: Sequence[Message | dict] | None = None,
        filters: Filters | dict | None = None,
    ) -> Iterator[str | Answer]:
        """`ask`, streamed: text deltas (str) as the answer is written, then the same Answer `ask` returns.

        The final Answer is authoritative: the citation and figure checks run on the finished text, and when
        they replace it (or the model fails and the fallback answers) the Answer differs from the deltas —
        clients replace what they showed with it. Extractive and calculator answers are one delta.
        Closing the iterator stops the generation (the model's stream is closed).

        Raises:
            QuestionError, IndexEmptyError: at the call, before anything is yielded (so an adapter can
                refuse the request before it starts a stream).
        """
        turn = self.prepare(question, history, filters)
        if isinstance(turn, Answer):
            return iter((turn.answer, turn))
        return stream_answer(self.backend, turn)

    def prepare(
        self,
        question: str,
        history: Sequence[Message | dict] | None = None,
        filters: Filters | dict | None = None,
    ) -> Turn | Answer:
        """Everything before the backend writes: validation, routing, retrieval and the evidence checks.
        Returns the finished Answer when no backend is needed (off-task, calculation, weak evidence)."""
        # Concurrent questions share one model call; one index snapshot serves the whole question.
        with self.retriever.query_embedder.expecting(), self.retriever.pinned():
            return self._prepare(question, history, filters)

    def _prepare(self, question: str, history, filters) -> Turn | Answer:
        question = self.validate(question)
        self._require_documents()
        messages = as_messages(history)
        filters = as_filters(filters)
        off_task = off_task_reason(question)
        if off_task:
            return decline(self.retrieve(question, filters), off_task)
        # One decision for every backend: a question the router recognises as a calculation is answered
        # from the calculator's result; a chat model's calculator tool is only for what the router can't parse.
        routed = answer_calculation(question, messages, titles=LazyTitles(self.store.titles))
        if routed is not None:
            return routed
        # Follow-ups are retrieved and answered as standalone questions ("and how often?" → about what).
        rewritten = self.backend.rewrite(question, messages) if messages else None
        standalone = rewritten or self.standalone_question(question, messages)
        hits = self.retrieve(standalone, filters)
        evidence = self.evidence()  # one snapshot for every check below
        reason = evidence.weak(standalone, hits, self.answerer.qa_match(standalone, hits)[0])
        if reason:
            return decline(hits, reason)
        return Turn(question, standalone, messages, hits, evidence.required_names(standalone))

    def calculate(self, request: CalcRequest) -> Answer:
        """The funding calculator's Answer for inputs given as data (CLI flags, a Slack command's flags):
        one calculation with `calculation` set, a question for a missing input, or why it cannot be done."""
        return answer_for_request(request, titles=self.store.titles())

    # -- pieces, public so eval and the benchmarks can measure them --------------------------------
    def validate(self, question: str) -> str:
        return validate_question(question, self.settings.max_question_chars)

    def retrieve(self, question: str, filters: Filters | dict | None = None) -> list[Document]:
        """The chunks the answer will be built from, best first (scores in metadata)."""
        with self.retriever.pinned():
            self._require_documents()
            return self.retriever.invoke(question, filters=as_filters(filters))

    def retrieval_trace(self, question: str, filters: Filters | dict | None = None) -> dict[str, list[Document]]:
        """Each retrieval stage's ranking, the final one last (eval reports where a passage is lost)."""
        with self.retriever.pinned():
            self._require_documents()
            return self.retriever.stages(question, as_filters(filters))

    def _require_documents(self) -> None:
        """IndexEmptyError unless the question's index snapshot holds chunks (the snapshot's freshness
        check is the question's only read of the commit records)."""
        if not self.retriever.lexical().ids:
            raise IndexEmptyError()

    @staticmethod
    def standalone_question(question: str, history: list[Message]) -> str:
        """Follow-ups ("and for secondaries?") are retrieved together with the previous question."""
        previous = next((m.content for m in reversed(history) if m.role == "user"), None)
        if previous and (len(question.split()) <= 6 or FOLLOW_UP.search(question)):
            return f"{previous} {question}"
        return question

    def evidence(self) -> Evidence:
        """The evidence checks on the index snapshot the retriever is using now."""
        return Evidence(self.retriever.lexical(), self.retriever.glossary, self.settings.decline_threshold)

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
                release_free_memory()  # the warm's model buffers: back to the OS before traffic

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
