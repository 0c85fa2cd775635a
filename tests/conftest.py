"""Shared fixtures: the model is loaded once per test session, the corpus is ingested once into a
session-wide data dir, and every test gets its own empty PARTNERSHIP_DATA_DIR. The model's ONNX export is
made once per session too, into a PARTNERSHIP_ENCODER_DIR that every test and CLI subprocess shares
(tests of the export itself use their own)."""
from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from tests.support.paths import CORPUS


@pytest.fixture(scope="session")
def shared_encoder_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "encoders"


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch, shared_encoder_dir):
    monkeypatch.setenv("PARTNERSHIP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PARTNERSHIP_ENCODER_DIR", str(shared_encoder_dir))
    monkeypatch.setenv("PARTNERSHIP_CORPUS_DIR", str(CORPUS))
    for name in ("PARTNERSHIP_CHROMA_HOST", "PARTNERSHIP_LLM_BASE_URL", "PARTNERSHIP_API_KEYS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def embeddings(shared_encoder_dir):
    """The bundled model as every command runs it: on ONNX Runtime."""
    from assistant.embeddings import OnnxEmbeddings, load_embeddings

    loaded = load_embeddings(encoder_dir=shared_encoder_dir)
    assert isinstance(loaded, OnnxEmbeddings)
    return loaded


@pytest.fixture(scope="session")
def torch_embeddings():
    """The bundled model on torch (sentence-transformers): what the ONNX export is checked against."""
    from assistant.embeddings import load_embeddings

    return load_embeddings()


@pytest.fixture(scope="session")
def indexed_settings(tmp_path_factory, embeddings) -> Settings:
    """Settings whose data dir holds the real corpus, ingested once for the whole session."""
    from assistant.store import ChunkStore
    from ingest.pipeline import ingest_paths

    settings = Settings(data_dir=tmp_path_factory.mktemp("indexed") / "data", corpus_dir=CORPUS)
    report = ingest_paths([CORPUS], settings, ChunkStore(settings, embeddings))
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def assistant(indexed_settings, embeddings):
    from assistant.factory import build_assistant

    return build_assistant(indexed_settings, embeddings=embeddings)
