"""While an ingest runs: a second ingest is refused (real processes), and queries keep answering from
one consistent version of each document — the previous one until the commit, the new one after."""
from __future__ import annotations

import json

from assistant.config import Settings
from assistant.factory import build_assistant
from assistant.store import ChunkStore
from ingest.pipeline import ingest_paths
from tests.durability.conftest import (
    EDITED, NEW_QA, cli_env, run_cli, snapshot, start_cli, wait_for, write_version,
)

QUESTIONS = ["Why is ELP only for one year?", "When do ELP invoices go out?", "Are nurseries in or out?",
             "How will you know if ELP has worked?"]


def test_a_second_ingest_is_refused_with_the_data_dir_named(tmp_path, embeddings, references, processes):
    folder = write_version(tmp_path / "docs", 1)
    data_dir = tmp_path / "data"
    pauses = tmp_path / "pauses"
    pauses.mkdir()
    first = start_cli(["ingest", str(folder), "--json"], cli_env(data_dir, PAUSE_AT="commit:1", PAUSE_DIR=str(pauses)))
    processes.append(first)
    wait_for(pauses / "commit-1.ready", first)  # the first ingest holds the lock, mid-way through a file

    second = run_cli(["ingest", str(folder)], cli_env(data_dir))
    assert second.returncode == 2, second.stderr
    message = second.stderr.replace("\n", "")
    assert "Another ingest is running on" in message and str(data_dir) in message
    assert "Traceback" not in second.stderr and second.stdout == ""

    (pauses / "commit-1.go").touch()
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert json.loads(out)["failed"] == []
    state = snapshot(Settings(data_dir=data_dir), embeddings)
    assert state.visible == references[1].visible and state.raw == references[1].raw  # never interleaved


def test_queries_during_an_ingest_see_one_version_of_each_document(tmp_path, embeddings, references, processes):
    folder = write_version(tmp_path / "docs", 1)
    settings = Settings(data_dir=tmp_path / "data")
    ingest_paths([folder], settings, ChunkStore(settings, embeddings))
    assistant = build_assistant(settings, embeddings=embeddings)
    old_ids, new_ids = references[1].raw[EDITED], references[2].raw[EDITED]
    assert old_ids - new_ids and new_ids - old_ids, "the edit must change chunks for this test to mean anything"

    def check(hits) -> str:
        """'old', 'new' or 'either' (only chunks both versions share); fails on a mix."""
        ids = {h.id for h in hits if h.metadata["source"] == EDITED}
        assert not (ids & (old_ids - new_ids) and ids & (new_ids - old_ids)), "old and new version mixed"
        assert ids <= old_ids | new_ids, "a chunk of neither version"
        return "old" if ids & (old_ids - new_ids) else "new" if ids & (new_ids - old_ids) else "either"

    write_version(folder, 2)
    pauses = tmp_path / "pauses"
    pauses.mkdir()
    # Pause while the edited file's new vectors are all written but uncommitted, and again once it is
    # committed but its old chunks are not yet deleted: the two moments both versions sit in the index.
    ingest = start_cli(["ingest", str(folder), "--json"],
                       cli_env(settings.data_dir, PAUSE_AT="commit:2,delete:1", PAUSE_DIR=str(pauses)))
    processes.append(ingest)
    seen = []
    for pause, expected in (("commit-2", "old"), ("delete-1", "new")):
        while not (pauses / f"{pause}.ready").exists():
            assert ingest.poll() is None, ingest.stderr.read()[-3000:]
            for question in QUESTIONS:
                seen.append(check(assistant.retrieve(question)))
        raw = ChunkStore(settings, embeddings).ids_by_source()[EDITED]
        assert raw >= old_ids | new_ids, "both versions are in the index at this moment"
        visible = {cid for cid, doc in assistant.store.all_chunks() if doc.metadata["source"] == EDITED}
        assert visible == (old_ids if expected == "old" else new_ids)
        for question in QUESTIONS:
            seen.append(check(assistant.retrieve(question)))
            answer = assistant.ask(question)
            assert answer.answer and all(c.source for c in answer.citations)
        assert check(assistant.retrieve("When do ELP invoices go out?")) in (expected, "either")
        (pauses / f"{pause}.go").touch()

    while ingest.poll() is None:
        for question in QUESTIONS:
            seen.append(check(assistant.retrieve(question)))
    assert ingest.returncode == 0, ingest.stderr.read()
    final = assistant.retrieve("When do ELP invoices go out?")
    assert check(final) == "new" and any("Invoices for ELP subscriptions" in h.page_content for h in final)
    assert NEW_QA.split("\t")[1].strip() in assistant.ask("When do ELP invoices go out?").answer
    assert "old" in seen and "new" in seen, "queries ran against both versions while the ingest ran"
