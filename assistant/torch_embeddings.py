"""The torch encoder: sentence-transformers through LangChain's HuggingFaceEmbeddings. Imported only when
it is needed (no ONNX export could be made, or a caller asked for torch): importing it takes seconds, as it
pulls torch, transformers, scikit-learn and SciPy."""
from __future__ import annotations

from pathlib import Path

from langchain_huggingface import HuggingFaceEmbeddings

from assistant.embeddings import BUNDLED, EmbeddingModelError, ModelIdentity


class LocalEmbeddings(HuggingFaceEmbeddings):
    """HuggingFaceEmbeddings over a local model directory, knowing which model it is."""

    identity: ModelIdentity = BUNDLED


def _loader_kwargs() -> dict:
    return {
        "model_kwargs": {"device": "cpu", "local_files_only": True},
        "encode_kwargs": {"normalize_embeddings": True, "batch_size": 32},
    }


def load_bundled(path: Path) -> LocalEmbeddings:
    return LocalEmbeddings(model_name=str(path), identity=BUNDLED, **_loader_kwargs())


def load_directory(path: Path, fingerprint: str) -> LocalEmbeddings:
    """A user's sentence-transformers directory with torch; EmbeddingModelError when it cannot be loaded."""
    try:
        embeddings = LocalEmbeddings(model_name=str(path), **_loader_kwargs())
        client = embeddings._client
        # get_embedding_dimension since sentence-transformers 6; None when the model cannot tell
        dimension = getattr(client, "get_embedding_dimension", client.get_sentence_embedding_dimension)()
        dimension = dimension or len(embeddings.embed_query("dimension"))
    except Exception as exc:  # missing or damaged weights, bad config, unreadable file: all mean "not loadable"
        raise not_loadable(path, exc) from exc
    embeddings.identity = ModelIdentity(str(path), fingerprint, int(dimension))
    return embeddings


def not_loadable(path: Path, exc: Exception) -> EmbeddingModelError:
    reason = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
    return EmbeddingModelError(
        f"PARTNERSHIP_EMBEDDING_MODEL={path} could not be loaded as a sentence-transformers model: {reason}"
    )
