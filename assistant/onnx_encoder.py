"""Sentence embeddings with ONNX Runtime, without importing torch: the transformer graph exported from a
sentence-transformers model (assistant/onnx_export.py), then the same pooling and L2 normalisation in numpy.

An export is a directory holding `model.onnx`, `tokenizer.json` (truncating at the model's max_seq_length;
each batch is padded here, to its longest text) and `record.json`, written last: which model directory it came from
(its sha256 fingerprint), the graph's own sha256, and how to pool. A directory without a record, or whose
graph does not match its record, is never loaded.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

GRAPH = "model.onnx"
TOKENIZER = "tokenizer.json"
RECORD = "record.json"
FORMAT = 1  # bump when what an export contains changes: older exports are then made again
POOLING_MODES = ("mean", "cls", "max")
BATCH_SIZE = 32  # as the torch path (assistant/embeddings.py)


@dataclass(frozen=True)
class ExportRecord:
    source_sha256: str  # directory_sha256 of the model directory it was exported from
    graph_sha256: str
    pooling: str  # one of POOLING_MODES, as the model's Pooling module
    lowercase: bool  # sentence-transformers' do_lower_case: lowercase the text before tokenising
    max_seq_length: int
    inputs: tuple[str, ...]  # the graph's input names (token_type_ids only for models that take them)
    pad_id: int  # the tokenizer's padding token (0 for BERT, 1 for MPNet)
    dimension: int
    format: int = FORMAT

    def write(self, directory: Path) -> None:
        (directory / RECORD).write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @classmethod
    def read(cls, directory: Path) -> "ExportRecord | None":
        """The directory's record, or None when it has none (an export never finished) or it is unreadable."""
        try:
            data = json.loads((directory / RECORD).read_text(encoding="utf-8"))
            return cls(**{**data, "inputs": tuple(data["inputs"])})
        except (OSError, ValueError, TypeError, KeyError):
            return None


def file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()  # reads in blocks


class OnnxEncoder:
    """Encodes texts as the sentence-transformers model does: tokenise (truncated at max_seq_length),
    run the transformer, pool the token vectors over the attention mask, L2-normalise."""

    def __init__(self, directory: Path, record: ExportRecord):
        import onnxruntime
        from tokenizers import Tokenizer

        self.record = record
        self.tokenizer = Tokenizer.from_file(str(directory / TOKENIZER))
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are noise here
        self.session = onnxruntime.InferenceSession(str(directory / GRAPH), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> np.ndarray:
        """float32 vectors, one row per text, in the order given."""
        if not texts:
            return np.zeros((0, self.record.dimension), dtype=np.float32)
        if self.record.lowercase:
            texts = [t.lower() for t in texts]
        encodings = self.tokenizer.encode_batch(texts)
        # Batches of similar lengths pad least (sentence-transformers sorts too); the order is restored below.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids), reverse=True)
        out = np.empty((len(texts), self.record.dimension), dtype=np.float32)
        for start in range(0, len(order), BATCH_SIZE):
            rows = order[start:start + BATCH_SIZE]
            out[rows] = self._encode_batch([encodings[i] for i in rows])
        return out

    def _encode_batch(self, encodings) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        pad = lambda values, fill=0: [list(v) + [fill] * (width - len(v)) for v in values]  # noqa: E731
        mask = np.asarray(pad([e.attention_mask for e in encodings]), dtype=np.int64)
        ids = np.asarray(pad([e.ids for e in encodings], self.record.pad_id), dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.record.inputs:
            feeds["token_type_ids"] = np.asarray(pad([e.type_ids for e in encodings]), dtype=np.int64)
        tokens = self.session.run(None, {name: feeds[name] for name in self.record.inputs})[0]
        return normalise(pool(tokens, mask, self.record.pooling))


def pool(tokens: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """sentence-transformers' Pooling: padding never counts."""
    if mode == "cls":
        return tokens[:, 0]
    weights = mask[..., None].astype(tokens.dtype)
    if mode == "max":
        return np.where(weights > 0, tokens, -1e9).max(axis=1)
    return (tokens * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
