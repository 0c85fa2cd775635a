"""A second embedding model for the tests of PARTNERSHIP_EMBEDDING_MODEL, made at test time without any
download: the bundled all-MiniLM-L6-v2 saved again with CLS pooling instead of mean pooling (same weights
file, different vectors)."""
from __future__ import annotations

from pathlib import Path

import pytest

from assistant.embeddings import BUNDLED, load_embeddings, model_path


@pytest.fixture(scope="session")
def other_model_dir(tmp_path_factory) -> Path:
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer.modules import Pooling
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Pooling

    base = SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)
    target = tmp_path_factory.mktemp("models") / "minilm-cls"
    SentenceTransformer(modules=[base[0], Pooling(BUNDLED.dimension, pooling_mode="cls")], device="cpu").save(str(target))
    return target


@pytest.fixture(scope="session")
def other_embeddings(other_model_dir):
    return load_embeddings(other_model_dir)  # on torch: what its ONNX export is checked against
