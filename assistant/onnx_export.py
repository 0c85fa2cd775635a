"""Exporting a sentence-transformers model directory to ONNX, once, so queries need no torch afterwards.

This is the only module of the ONNX path that imports torch (and `onnx`, which torch's exporter needs). The
export is written into a temporary directory next to its destination, checked against the torch model on
probe texts (long ones past max_seq_length, near-empty ones, unicode, a padded batch of mixed lengths), and
only then renamed into place: a half-written or wrong export is never loaded.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from assistant.onnx_encoder import GRAPH, POOLING_MODES, TOKENIZER, ExportRecord, OnnxEncoder, file_sha256

MIN_COSINE = 0.9999  # per probe text, ONNX against torch; the same model should agree to float precision
PROBES = [
    "Is it all or nothing?",
    "What would a 2FE maintained primary pay under scenario 2?",
    "",
    " ",
    "?",
    "Café, naïve façade — £6,566 per school; 1½ FE; 学校; emoji 🙂",
    "SAfE Surrey charges 89p per pupil. " * 60,  # far past max_seq_length: truncated the same way
    "Schools need to decide whether they want to join the partnership as a whole.\nA second line.",
]


class ModelNotLoadableError(RuntimeError):
    """sentence-transformers cannot load the directory at all (the cause says why): not an export problem."""


class ExportUnsupportedError(RuntimeError):
    """The model cannot be exported faithfully (modules other than transformer, pooling and normalise, a
    pooling mode or prompt we do not reproduce, no fast tokenizer, or vectors that disagree with torch's)."""


def export_model(model_dir: Path, destination: Path, source_sha256: str) -> ExportRecord:
    """Export `model_dir` (fingerprint `source_sha256`) into `destination`; returns its record.

    Raises ModelNotLoadableError when the directory is not a loadable model, ImportError when the exporter's
    dependencies are missing, ExportUnsupportedError when the model is not one this exporter reproduces
    exactly; in every case nothing is left at `destination`.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    try:
        model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    except Exception as exc:  # missing or damaged weights, bad config
        raise ModelNotLoadableError(str(exc)) from exc
    transformer, pooling = _supported_parts(model)
    tokenizer = transformer.tokenizer
    inputs = tuple(n for n in ("input_ids", "attention_mask", "token_type_ids") if n in tokenizer.model_input_names)
    staging = destination.parent / f".{destination.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    staging.mkdir(parents=True)
    try:
        _export_graph(torch, transformer.auto_model, inputs, staging / GRAPH)
        from tokenizers import Tokenizer

        backend = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())  # a copy: torch's stays as it is
        backend.no_padding()  # each batch is padded by the encoder, to its own longest text
        backend.enable_truncation(max_length=int(model.max_seq_length))
        backend.save(str(staging / TOKENIZER))
        record = ExportRecord(
            source_sha256=source_sha256, graph_sha256=file_sha256(staging / GRAPH), pooling=pooling,
            lowercase=bool(getattr(transformer, "do_lower_case", False)), max_seq_length=int(model.max_seq_length),
            inputs=inputs, pad_id=int(tokenizer.pad_token_id or 0),
            dimension=int(getattr(model, "get_embedding_dimension", model.get_sentence_embedding_dimension)()),
        )
        _check_against_torch(model, OnnxEncoder(staging, record))
        record.write(staging)  # last: a directory with a record is a finished export
        _move_into_place(staging, destination)
        return record
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _supported_parts(model):
    """(transformer module, pooling mode) of a Transformer → Pooling [→ Normalize] model, else unsupported."""
    names = [type(m).__name__ for m in model]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise ExportUnsupportedError(f"its modules are {' → '.join(names)}, not Transformer → Pooling [→ Normalize]")
    transformer, pooling = model[0], model[1]
    mode = pooling.get_config_dict().get("pooling_mode")
    if mode not in POOLING_MODES:
        raise ExportUnsupportedError(f"pooling mode {mode!r} is not one of {', '.join(POOLING_MODES)}")
    if getattr(model, "default_prompt_name", None):
        raise ExportUnsupportedError("it has a default prompt")
    if not hasattr(transformer, "auto_model") or not hasattr(transformer.tokenizer, "backend_tokenizer"):
        raise ExportUnsupportedError("it has no fast (tokenizers) tokenizer")
    return transformer, mode


def _export_graph(torch, auto_model, inputs: tuple[str, ...], path: Path) -> None:
    """The transformer alone (token vectors out), with batch and sequence length left dynamic. The
    TorchScript exporter: it needs only `onnx` and takes seconds, where the dynamo one takes minutes."""
    import warnings

    class TokenVectors(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *tensors):
            return self.inner(**dict(zip(inputs, tensors))).last_hidden_state

    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in inputs)
    axes = {name: {0: "batch", 1: "sequence"} for name in (*inputs, "token_vectors")}
    auto_model.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(TokenVectors(auto_model), example, str(path), dynamo=False, input_names=list(inputs),
                          output_names=["token_vectors"], dynamic_axes=axes, opset_version=17)


def _check_against_torch(model, encoder: OnnxEncoder) -> None:
    texts = [t.replace("\n", " ") for t in PROBES]  # as LangChain's HuggingFaceEmbeddings passes them
    expected = model.encode(texts, batch_size=len(texts), normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False)
    got = encoder.encode(texts)
    cosines = np.sum(expected * got, axis=1)
    if float(cosines.min()) < MIN_COSINE:
        worst = int(np.argmin(cosines))
        raise ExportUnsupportedError(f"its ONNX vectors disagree with torch's (cosine {cosines[worst]:.5f} "
                                     f"on probe {worst})")


def _move_into_place(staging: Path, destination: Path) -> None:
    """Rename the finished export into place. A stale or broken export there is moved aside first; if
    another process finished the same export meanwhile, theirs is kept (it is the same model)."""
    if destination.exists():
        stale = destination.parent / f".{destination.name}.{uuid.uuid4().hex[:8]}.stale"
        os.rename(destination, stale)  # out of the way in one step: no reader sees it half removed
        shutil.rmtree(stale, ignore_errors=True)
    try:
        os.rename(staging, destination)
    except OSError:
        if ExportRecord.read(destination) is None:
            raise
