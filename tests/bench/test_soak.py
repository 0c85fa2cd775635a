"""`python -m bench --soak`: a run of a fraction of a minute covers the whole path (chroma run, ingest, serve,
the mix, the re-ingest, the report) and its figures are consistent. Timings are not checked: they belong in
the report (bench/results/soak.md comes from a real 10-minute run)."""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.schema import validate_soak
from bench.soak_traffic import EDITED, VersionCheck, bad_requests, edited_version, request_stream

REPO = Path(__file__).resolve().parents[2]
ORIGINAL = (REPO / "corpus" / EDITED).read_text(encoding="utf-8")


def cited(*snippets: str) -> dict:
    return {"citations": [{"source": EDITED, "snippet": s} for s in snippets]
            + [{"source": "other.txt", "snippet": "anything"}]}


def test_citations_are_matched_against_both_versions():
    check = VersionCheck(REPO / "corpus" / EDITED)
    new_text = edited_version(ORIGINAL)
    old_q = "Q: Why is ELP only for one year? A: The commitment from the council and from schools is for one year in the first instance. If it works"
    new_q = "Q: Why is ELP only for one year? A: The commitment from the council and from schools is for one school year in the first instance, reviewed"
    shared = "Why is ELP only for one year? … It also gives school leaders the opportunity to facilitate the growth of schools"
    assert old_q.split("A: ")[1][:60] in ORIGINAL and "one school year in the first instance" in new_text
    assert check.classify(cited(old_q)) == "old"
    assert check.classify(cited(new_q, shared)) == "new"
    assert check.classify(cited(shared)) == "either"
    assert check.classify(cited(old_q, new_q)) == "mixed"  # the failure the soak looks for
    assert check.classify(cited("Nothing like this sentence is in the document at all.")) == "unmatched"
    assert check.classify({"citations": [{"source": "other.txt", "snippet": old_q}]}) is None


def test_the_mix_has_every_kind_and_one_expected_status_each():
    stream = request_stream({"question": ["q1", "q2"], "calc": ["c1"], "decline": ["d1"]},
                            [{"question": "and then?", "history": [{"role": "user", "content": "q1"}]}])
    first = list(itertools.islice(stream, 40))
    kinds = {r.kind for r in first}
    assert {"ask", "ask_edited", "follow_up", "calc_ask", "decline", "calculate", "feedback", "documents"} <= kinds
    assert any(k.startswith("bad:") for k in kinds)
    questions = [r.json["question"] for r in first if r.is_answer]
    assert len(questions) == len(set(questions)), "every question differs (caches must not hide a leak)"
    bad = bad_requests()
    assert len({r.kind for r in bad}) == len(bad) and all(400 <= r.expect < 500 for r in bad)


def test_a_short_soak_writes_a_consistent_report(tmp_path):
    out = tmp_path / "results"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERSHIP_") or k == "PARTNERSHIP_ENCODER_DIR"}
    done = subprocess.run([sys.executable, "-m", "bench", "--soak", "0.2", "--out", str(out)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)
    # 1: a target missed (a 12 s soak is too short for some); 2: the soak could not run.
    assert done.returncode in (0, 1) and (out / "soak.json").exists(), done.stderr[-3000:]
    payload = json.loads((out / "soak.json").read_text())
    validate_soak(payload)
    assert payload["requests"] == sum(payload["statuses"].values()) == sum(m["requests"] for m in payload["per_minute"])
    assert payload["requests"] >= 0.2 * 60 * payload["rate_per_s"] * 0.9  # the schedule ran to its end
    assert payload["unexpected_count"] == 0, payload["unexpected"]
    assert {"ask", "follow_up", "calc_ask", "calculate", "feedback", "documents"} <= set(payload["by_kind"])
    reingest = payload["reingest"]
    assert reingest["returncode"] == 0 and reingest["report"]["updated"] == 1
    windows = payload["versions"]["windows"]
    assert sum(windows["before"].values()) > 0 and not any(w.get("mixed") for w in windows.values())
    assert payload["feedback"]["rows_stored"] == payload["feedback"]["accepted"] > 0
    for who in ("start", "end"):
        figures = payload["serve"][who]
        assert figures["rss_mb"] > 50 and figures["threads"] >= 1 and figures["fds"] > 0
    report = (out / "soak.md").read_text()
    assert report.startswith("# Soak results") and "## Per minute" in report
    for target in payload["targets"]:
        assert target["description"] in report
