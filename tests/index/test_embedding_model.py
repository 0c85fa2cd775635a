"""PARTNERSHIP_EMBEDDING_MODEL: a second, local model; the index records which model built it and refuses
to mix vectors; `ingest --rebuild` switches models, crash-safely.

The second model is made at test time, without any download: the bundled all-MiniLM-L6-v2 saved again with
CLS pooling instead of mean pooling (same weights file, different vectors).
"""
from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import chromadb
import numpy as np
import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings
from assistant.embeddings import BUNDLED, MODEL_SHA256, directory_sha256, load_embeddings, model_path
from assistant.factory import build_assistant
from assistant.store import ChunkStore, EmbeddingModelMismatchError
from ingest.pipeline import ingest_paths
from tests.support.paths import CORPUS
from tests.durability.conftest import ChromaServer, cli_env, run_cli, snapshot

QA_SHEET = "ealing-elp-qa-briefings-2017-11.txt"
LETTER = "hillingdon-hlp-invitation-to-join.txt"
QUESTION = "Is it all or nothing?"


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "docs"
    target.mkdir()
    for name in (QA_SHEET, LETTER, "metadata.yaml"):
        shutil.copy(CORPUS / name, target / name)
    return target


def env_for(data_dir: Path, model: Path | str | None = None) -> dict[str, str]:
    extra = {"COLUMNS": "1000"}  # rich wraps at 80 columns without a terminal; keep each message on its line
    if model is not None:
        extra["PARTNERSHIP_EMBEDDING_MODEL"] = str(model)
    return cli_env(data_dir, **extra)


def error_line(result) -> str:
    """The CLI's one-line error (stderr also carries the model loader's progress output)."""
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr[-3000:]
    return lines[0]


def stored_vector(settings: Settings, embeddings) -> tuple[str, np.ndarray]:
    store = ChunkStore(settings, embeddings)
    chunk_id = sorted(store.ids_by_source()[QA_SHEET])[3]
    got = store.collection.get(ids=[chunk_id], include=["embeddings", "documents"])
    return got["documents"][0], np.asarray(got["embeddings"][0])


def test_the_second_model_is_another_model_and_its_fingerprint_covers_the_configuration(
        tmp_path, other_model_dir, other_embeddings, embeddings, shared_encoder_dir):
    other = other_embeddings.identity
    assert other.name == str(other_model_dir.resolve()) and other.dimension == BUNDLED.dimension == 384
    assert other.sha256 != MODEL_SHA256 and not other.same_model(BUNDLED)
    assert embeddings.identity == BUNDLED
    text = (CORPUS / LETTER).read_text(encoding="utf-8")[:400]
    assert float(np.dot(embeddings.embed_query(text), other_embeddings.embed_query(text))) < 0.95
    # Compared by identity, not object: the loader's cache is small, and other test files load the bundled
    # model with other encoder dirs (which evicts this one when they run first).
    assert load_embeddings(model_path(), encoder_dir=shared_encoder_dir).identity == embeddings.identity == BUNDLED, \
        "the bundled directory itself is the bundled model"

    shorter = tmp_path / "shorter"  # same weights, only a shorter max_seq_length: still another model
    shutil.copytree(other_model_dir, shorter)
    config = shorter / "sentence_bert_config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "max_seq_length": 32}))
    (shorter / "README.md").write_text("documentation is not part of the model")
    assert directory_sha256(other_model_dir) == other.sha256
    assert directory_sha256(shorter) != other.sha256
    config.write_text((other_model_dir / "sentence_bert_config.json").read_text())
    assert directory_sha256(shorter) == other.sha256


def test_switching_models_is_refused_until_ingest_rebuild(tmp_path, folder, other_model_dir, other_embeddings, embeddings):
    settings = Settings(data_dir=tmp_path / "data")
    default_env, other_env = env_for(settings.data_dir), env_for(settings.data_dir, other_model_dir)

    built = run_cli(["ingest", str(folder), "--json"], default_env)
    assert built.returncode == 0, built.stderr[-3000:]
    chunks = json.loads(built.stdout)["chunks"]
    assert ChunkStore(settings, embeddings).recorded_model() == BUNDLED

    for args in (["ask", QUESTION, "--json"], ["ingest", str(folder), "--json"]):
        refused = run_cli(args, other_env)
        assert refused.returncode == 2, (args, refused.stderr[-3000:])
        message = error_line(refused)
        for words in ("all-MiniLM-L6-v2", str(other_model_dir.resolve()), "`partnership ingest --rebuild`"):
            assert words in message, (args, message)
        assert refused.stdout == ""
    text, vector = stored_vector(settings, embeddings)
    assert np.allclose(vector, embeddings.embed_documents([text])[0], atol=1e-5), "a refused ingest wrote nothing"
    assert ChunkStore(settings, embeddings).recorded_model() == BUNDLED

    rebuilt = run_cli(["ingest", str(folder), "--rebuild", "--json"], other_env)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    report = json.loads(rebuilt.stdout)
    assert report["added"] == 2 and report["failed"] == [] and report["chunks"] == chunks

    asked = run_cli(["ask", QUESTION, "--json"], other_env)
    assert asked.returncode == 0, asked.stderr[-3000:]
    answer = json.loads(asked.stdout)
    assert answer["citations"] and answer["citations"][0]["source"] == QA_SHEET

    assert ChunkStore(settings, other_embeddings).recorded_model() == other_embeddings.identity
    text, vector = stored_vector(settings, other_embeddings)
    assert np.allclose(vector, other_embeddings.embed_documents([text])[0], atol=1e-5)
    assert not np.allclose(vector, embeddings.embed_documents([text])[0], atol=1e-2)

    back = run_cli(["ask", QUESTION], default_env)  # the bundled model against the new index: refused in turn
    assert back.returncode == 2
    message = error_line(back)
    assert str(other_model_dir.resolve()) in message and "all-MiniLM-L6-v2" in message and "--rebuild" in message


def test_a_rebuild_killed_part_way_is_finished_by_the_next_ingest_without_mixing_models(
        tmp_path, folder, other_model_dir, other_embeddings, embeddings):
    reference = Settings(data_dir=tmp_path / "reference")
    assert not ingest_paths([folder], reference, ChunkStore(reference, other_embeddings)).failed
    settings = Settings(data_dir=tmp_path / "data")
    assert not ingest_paths([folder], settings, ChunkStore(settings, embeddings)).failed  # built with the default

    other_env = env_for(settings.data_dir, other_model_dir)
    killed = run_cli(["ingest", str(folder), "--rebuild", "--json"], dict(other_env, CRASH_AT="upsert:2"), hooked=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    state = snapshot(settings, other_embeddings)
    assert len(state.visible_by_source()) == 1, "one file committed, the other not started"
    assert ChunkStore(settings, other_embeddings).recorded_model() == other_embeddings.identity
    with pytest.raises(EmbeddingModelMismatchError, match="--rebuild"):  # what is there is the new model's
        ingest_paths([folder], settings, ChunkStore(settings, embeddings))

    finished = run_cli(["ingest", str(folder), "--json"], other_env)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert snapshot(settings, other_embeddings) == snapshot(reference, other_embeddings)
    # Vectors are read from a copy: this process's embedded Chroma still caches the vector segment it
    # loaded before the last run wrote to it (one process per embedded store, as the README says).
    shutil.copytree(settings.data_dir, tmp_path / "copy")
    store = ChunkStore(Settings(data_dir=tmp_path / "copy"), other_embeddings)
    got = store.collection.get(include=["embeddings", "documents"])
    assert len(got["ids"]) == len(snapshot(reference, other_embeddings).visible)
    assert np.allclose(np.asarray(got["embeddings"]), other_embeddings.embed_documents(got["documents"]), atol=1e-5)


def test_a_value_that_is_not_a_model_directory_is_a_clear_error(tmp_path, other_model_dir):
    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    (not_a_model / "notes.txt").write_text("nothing here", encoding="utf-8")
    broken = tmp_path / "broken-model"
    shutil.copytree(other_model_dir, broken)
    (broken / "model.safetensors").unlink()
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    cases = [
        ("sentence-transformers/all-mpnet-base-v2", "is not an existing directory: it must be the path of a local sentence-transformers model directory"),
        (not_a_model, "is not a sentence-transformers model directory (it has no modules.json)"),
        (broken, "could not be loaded as a sentence-transformers model: "),
    ]
    data_dir = tmp_path / "data"
    for value, words in cases:
        for args in (["ask", QUESTION], ["ingest", str(CORPUS / LETTER)]):
            result = run_cli(args, env_for(data_dir, value))
            assert result.returncode == 2, (value, args, result.stderr[-3000:])
            message = error_line(result)
            assert f"PARTNERSHIP_EMBEDDING_MODEL={value if isinstance(value, str) else value.resolve()}" in message
            assert words in message, message
            assert result.stdout == ""
    assert not (data_dir / "chroma").exists(), "nothing was opened or written"


def test_serve_reports_model_errors_as_not_ready(tmp_path, other_model_dir, embeddings):
    from integrations.http.app import create_app

    settings = Settings(data_dir=tmp_path / "data", warm_sentences=False)
    assert not ingest_paths([CORPUS / LETTER], settings, ChunkStore(settings, embeddings)).failed
    cases = [(tmp_path / "missing", "is not an existing directory"), (other_model_dir, "`partnership ingest --rebuild`")]
    for value, words in cases:
        app = create_app(settings.model_copy(update={"embedding_model": value}))  # the real builder
        with TestClient(app, raise_server_exceptions=False) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503 and words in ready.json()["detail"], ready.json()
            asked = client.post("/ask", json={"question": "When is the Hillingdon launch event?"})
            assert asked.status_code == 503 and words in asked.json()["error"], asked.json()
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 200


def test_an_index_from_before_models_were_recorded_counts_as_built_by_the_bundled_model(
        tmp_path, folder, embeddings, other_embeddings):
    settings = Settings(data_dir=tmp_path / "data")
    settings.chroma_dir.mkdir(parents=True)
    legacy = chromadb.PersistentClient(path=str(settings.chroma_dir))
    legacy.create_collection(settings.collection, embedding_function=None,  # as the store created it before
                             configuration={"hnsw": {"space": "cosine", "ef_construction": 400, "ef_search": 400}})
    assert not ingest_paths([folder], settings, ChunkStore(settings, embeddings)).failed
    store = ChunkStore(settings, embeddings)
    assert not (store.collection.metadata or {}).get("embedding_model_sha256"), "nothing recorded"
    assert store.recorded_model() == BUNDLED
    assert build_assistant(settings, embeddings=embeddings).ask(QUESTION).citations
    with pytest.raises(EmbeddingModelMismatchError, match="built with the embedding model all-MiniLM-L6-v2"):
        build_assistant(settings, embeddings=other_embeddings)


def test_an_empty_index_takes_the_model_of_its_first_ingest(tmp_path, folder, embeddings, other_embeddings):
    settings = Settings(data_dir=tmp_path / "data")
    build_assistant(settings, embeddings=embeddings)  # e.g. `partnership ask` before anything was ingested
    assert ChunkStore(settings, embeddings).recorded_model() == BUNDLED
    assert not ingest_paths([folder], settings, ChunkStore(settings, other_embeddings)).failed
    assert ChunkStore(settings, other_embeddings).recorded_model() == other_embeddings.identity
    assert build_assistant(settings, embeddings=other_embeddings).ask(QUESTION).citations


def test_a_chroma_server_shares_the_record_between_hosts(tmp_path, folder, embeddings, other_embeddings):
    server = ChromaServer(tmp_path / "chroma-server", tmp_path / "chroma-server.log").start()
    try:
        first, second = server.settings(tmp_path / "host-a"), server.settings(tmp_path / "host-b")
        assert not ingest_paths([folder], first, ChunkStore(first, embeddings)).failed
        with pytest.raises(EmbeddingModelMismatchError, match="--rebuild"):
            ingest_paths([folder], second, ChunkStore(second, other_embeddings))
        assert not ingest_paths([folder], second, ChunkStore(second, other_embeddings), rebuild=True).failed
        assert ChunkStore(first, embeddings).recorded_model() == other_embeddings.identity
        with pytest.raises(EmbeddingModelMismatchError, match=str(other_embeddings.identity.name)):
            build_assistant(first, embeddings=embeddings)
    finally:
        server.stop()
