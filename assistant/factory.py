"""Builds what the adapters use, from Settings: the Assistant (embeddings, store, retriever, answerer,
backend), a store on its own (ingest, docs, doctor), the feedback store, and background sentence warming.
Adapters receive built objects; none of them constructs these itself."""
from __future__ import annotations

from assistant.answering import ExtractiveAnswerer
from assistant.backends import ExtractiveBackend, WithFallback
from assistant.calculator import answer_for_args
from assistant.config import Settings
from assistant.core import Assistant
from assistant.embeddings import load_embeddings
from assistant.feedback import FeedbackStore
from assistant.glossary import Glossary
from assistant.models import Answer
from assistant.retrieval import HybridRetriever, QueryEmbedder
from assistant.store import ChunkStore


def build_assistant(settings: Settings | None = None, embeddings=None) -> Assistant:
    """Build the Assistant once per process; adapters receive it (no module-level globals).

    Raises EmbeddingModelError (PARTNERSHIP_EMBEDDING_MODEL is not a loadable model directory) or
    EmbeddingModelMismatchError (the index was built with another model): adapters report them like an
    unreachable store.
    """
    settings = settings or Settings()
    embeddings = embeddings or load_embeddings(settings.embedding_model, encoder_dir=settings.encoders_path)
    store = ChunkStore(settings, embeddings)
    store.check_model()  # never answer by comparing our vectors with another model's
    embedder = QueryEmbedder(embeddings)
    glossary = Glossary.load(settings.glossary_path)
    retriever = HybridRetriever(store=store, query_embedder=embedder, glossary=glossary, k=settings.top_k)
    answerer = ExtractiveAnswerer(embedder, glossary)
    backend = ExtractiveBackend(answerer)
    if settings.llm_base_url:
        from assistant.generative import build_backend

        def calculator_answer(args: dict) -> Answer:
            """The calculator's own answer for a model's tool call, rate citations titled like the router's."""
            return answer_for_args(args, titles=store.titles())

        # The chat model writes document answers; the extractive backend answers whenever it fails.
        backend = WithFallback(build_backend(settings, calculator_answer), backend)
    assistant = Assistant(settings, store, retriever, answerer, backend=backend)
    assistant.warm_up()  # every adapter asks at least once: pay the index build here, not on the first question
    return assistant


def build_store(settings: Settings, *, embed: bool = True) -> ChunkStore:
    """The chunk store alone: with the configured embedding model for ingest and docs (ONNX, exported into
    the data dir on first use: ingest and questions share one encoder), or without one (`embed=False`) for
    what only counts and reads (doctor)."""
    embeddings = load_embeddings(settings.embedding_model, encoder_dir=settings.encoders_path) if embed else None
    return ChunkStore(settings, embeddings)


def build_feedback(settings: Settings) -> FeedbackStore:
    return FeedbackStore(settings.feedback_db)


def start_warming(assistant: Assistant, settings: Settings) -> None:
    """Long-running adapters embed every quotable sentence in the background, unless turned off."""
    if settings.warm_sentences:
        assistant.warm_sentences_in_background()
