"""A full disk during ingest stops it with a named error, and the previous index keeps answering.

Two ways: a write that raises ENOSPC half-way through an ingest (hooked_cli.py's ENOSPC_AT), and a real
small filesystem (a tmpfs mounted in a private mount namespace with `unshare`: a user namespace's where
that is allowed, a plain mount namespace as root, so nothing outside the test sees it). A machine that allows
neither fails the test with the reason: the suite's machines (and CI's) allow both, so a skip would only hide
a lost guarantee.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.store import ChunkStore
from ingest.pipeline import MIN_FREE_BYTES, ingest_paths
from tests.durability.conftest import (
    EDITED, PARTNERSHIP, REMOVED, REPO, RUN_TIMEOUT, cli_env, run_cli, snapshot, write_version,
)
from tests.durability.test_crash_safety import assert_each_document_is_one_version, assert_equals_clean_build

QUESTION = "When must schools sign up to the Hillingdon Learning Partnership?"


def assert_answers(returncode: int, stdout: str, stderr: str) -> None:
    assert returncode == 0, stderr
    answer = json.loads(stdout)
    assert answer["grounded"] and answer["citations"], answer


def test_no_space_left_half_way_through_an_ingest_is_named_and_the_index_still_answers(tmp_path, embeddings, references):
    folder = write_version(tmp_path / "docs", 1)
    settings = Settings(data_dir=tmp_path / "data")
    ingest_paths([folder], settings, ChunkStore(settings, embeddings))
    write_version(folder, 2)
    env = cli_env(settings.data_dir, COLUMNS="500")

    # save:2 is the manifest write after the first file (the added one) is committed.
    full = run_cli(["ingest", str(folder), "--json"], dict(env, ENOSPC_AT="save:2"), hooked=True)
    assert full.returncode == 2, full.stderr
    assert f"No space left on device while writing the manifest {settings.manifest_path}" in full.stderr
    assert "Traceback" not in full.stderr and full.stdout == ""
    state = snapshot(settings, embeddings)
    assert_each_document_is_one_version(state, references)
    assert state.visible_by_source()[EDITED] == references[1].visible_by_source()[EDITED]
    assert REMOVED in state.visible_by_source()

    asked = run_cli(["ask", "--json", QUESTION], env)
    assert_answers(asked.returncode, asked.stdout, asked.stderr)
    ingest_paths([folder], settings, ChunkStore(settings, embeddings))  # space again: the next run finishes
    assert_equals_clean_build(snapshot(settings, embeddings), references[2], settings)


FILL = """
import os, sys
target, leave = sys.argv[1], int(sys.argv[2])
stats = os.statvfs(os.path.dirname(target))
with open(target, "wb") as fh:
    fh.write(b"\\0" * max(0, stats.f_bavail * stats.f_frsize - leave))
"""
WRITE_V2 = "import sys; from pathlib import Path; from tests.durability.conftest import write_version; write_version(Path(sys.argv[1]), 2)"


PRIVATE_MOUNTS = (
    ["unshare", "--user", "--map-root-user", "--mount"],  # unprivileged: a user namespace grants the mount
    ["unshare", "--mount"],  # root where user namespaces are refused: a mount namespace alone
)


def _private_mount_command(probe: Path) -> list[str]:
    """The first `unshare` prefix that may mount a tmpfs no one outside sees; fails, naming each refusal,
    on a machine that allows neither (a kernel setting, not a missing package: util-linux's unshare is
    always there)."""
    probe.mkdir()
    refusals = []
    for prefix in PRIVATE_MOUNTS:
        tried = subprocess.run([*prefix, "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs {probe}"],
                               capture_output=True, text=True, timeout=30)
        if tried.returncode == 0:
            return prefix
        refusals.append(f"{' '.join(prefix)}: {tried.stderr.strip()}")
    pytest.fail("a private tmpfs cannot be mounted here (the real full-disk test needs user namespaces, "
                "or root with mount namespaces): " + "; ".join(refusals))


def test_a_real_full_disk_stops_ingest_before_writing_and_the_previous_index_answers(tmp_path, embeddings, references):
    unshare = _private_mount_command(tmp_path / "probe")
    folder = write_version(tmp_path / "docs", 1)
    disk, out = tmp_path / "disk", tmp_path / "out"
    disk.mkdir()
    out.mkdir()
    data = disk / "data"
    leave = MIN_FREE_BYTES // 2  # the previous index fits; the margin for the next window does not
    python, cli = sys.executable, str(PARTNERSHIP)
    script = f"""
set -e
mount -t tmpfs -o size=48m tmpfs {disk}
{cli} ingest {folder} --json > {out}/v1.json
{python} -c '{FILL}' {disk}/filler {leave}
{python} -c '{WRITE_V2}' {folder}
set +e
{cli} ingest {folder} --json > {out}/full.out 2> {out}/full.err; echo $? > {out}/full.rc
{cli} ask --json "{QUESTION}" > {out}/ask.out 2> {out}/ask.err; echo $? > {out}/ask.rc
cp -a {data} {out}/after-full
rm {disk}/filler
{cli} ingest {folder} --json > {out}/freed.out 2> {out}/freed.err; echo $? > {out}/freed.rc
cp -a {data} {out}/after-freed
"""
    env = cli_env(data, COLUMNS="500")
    ran = subprocess.run([*unshare, "bash", "-c", script], env=env,
                         capture_output=True, text=True, timeout=RUN_TIMEOUT * 3, cwd=REPO)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert json.loads((out / "v1.json").read_text())["failed"] == []

    err = (out / "full.err").read_text()
    assert (out / "full.rc").read_text().strip() == "2", err
    assert f"No space left on device while writing the index in {data / 'chroma'}" in err, err
    assert "stopped before writing" in err and "Traceback" not in err
    assert_answers(int((out / "ask.rc").read_text()), (out / "ask.out").read_text(), (out / "ask.err").read_text())
    after_full = Settings(data_dir=out / "after-full")
    assert snapshot(after_full, embeddings).visible == references[1].visible, "the previous index, untouched"

    assert (out / "freed.rc").read_text().strip() == "0", (out / "freed.err").read_text()
    freed = snapshot(Settings(data_dir=out / "after-freed"), embeddings)
    assert freed.visible == references[2].visible and freed.raw == references[2].raw
