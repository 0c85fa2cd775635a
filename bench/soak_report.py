"""The soak's figures (per minute, per kind, the re-ingest window), its targets, and soak.json + soak.md."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from bench.markdown import number
from bench.report import _target, verdict
from bench.schema import validate_soak
from bench.stats import latency

RSS_GROWTH_MAX = 0.05
WARM_S = 60.0  # figures "after the first minute" are compared with the first sample at or after this


def _statuses(done) -> dict[str, int]:
    return dict(sorted(Counter(d.status for d in done).items()))


def _sample_at(samples: list[dict], t_s: float) -> dict | None:
    return next((s for s in samples if s["t_s"] >= t_s and s["serve"]), None)


def _process(samples: list[dict], warm_s: float, who: str) -> dict:
    """Start, warm (after the first minute: pools and caches filled) and end figures of one process."""
    live = [s for s in samples if s.get(who)]
    if not live:
        return {"start": None, "warm": None, "end": None, "first_minute_max": None, "peak_rss_mb": None}
    first = [s[who] for s in live if s["t_s"] <= warm_s] or [live[0][who]]
    warm = next((s for s in live if s["t_s"] >= warm_s), live[-1])
    return {"start": live[0][who], "warm": {**warm[who], "t_s": warm["t_s"]}, "end": live[-1][who],
            "first_minute_max": {k: max(f[k] for f in first) for k in ("rss_mb", "threads", "fds")},
            "peak_rss_mb": max(s[who]["rss_mb"] for s in live)}


def _minutes(soak) -> list[dict]:
    out = []
    last = int(max((d.started_s for d in soak.done), default=0) // 60)
    for minute in range(last + 1):
        done = [d for d in soak.done if minute * 60 <= d.started_s < (minute + 1) * 60]
        samples = [s for s in soak.samples if minute * 60 <= s["t_s"] < (minute + 1) * 60 and s["serve"]]
        tail = samples[-1] if samples else None
        out.append({
            "minute": minute + 1, "requests": len(done), "statuses": _statuses(done),
            "unexpected": sum(1 for d in done if d.status != str(d.expect)),
            "latency": latency([d.seconds for d in done]),
            "answer_latency": latency([d.seconds for d in done if d.path == "/ask" and d.expect == 200]),
            "rss_mb": tail["serve"]["rss_mb"] if tail else None,
            "chroma_rss_mb": tail["chroma"]["rss_mb"] if tail and tail["chroma"] else None,
            "threads": tail["serve"]["threads"] if tail else None, "fds": tail["serve"]["fds"] if tail else None,
        })
    return out


def _versions(soak) -> dict:
    """Classes of answers citing the edited document, before, during and after the re-ingest."""
    start, end = soak.reingest.get("started_s"), soak.reingest.get("ended_s")
    windows = {"before": Counter(), "during": Counter(), "after": Counter()}
    mixed = []
    for d in soak.done:
        if d.version is None:
            continue
        when = ("before" if start is None or d.started_s < start else
                "during" if end is None or d.started_s <= end else "after")
        windows[when][d.version] += 1
        if d.version == "mixed":
            mixed.append({"kind": d.kind, "started_s": d.started_s, "window": when})
    return {"windows": {k: dict(v) for k, v in windows.items()}, "mixed": mixed[:20]}


def build(soak, *, duration_s: float, machine: dict, peak_rss_mb: float | None, server_errors: list[str],
          feedback_rows: int | None, questions_source: str, config: dict) -> dict:
    warm_s = min(WARM_S, soak.seconds / 3)  # a soak under three minutes is too short to mean much anyway
    serve, chroma = _process(soak.samples, warm_s, "serve"), _process(soak.samples, warm_s, "chroma")
    kinds = sorted({d.kind for d in soak.done})
    by_kind = {k: {"requests": sum(1 for d in soak.done if d.kind == k),
                   "expect": next(d.expect for d in soak.done if d.kind == k),
                   "statuses": _statuses([d for d in soak.done if d.kind == k]),
                   "latency": latency([d.seconds for d in soak.done if d.kind == k])} for k in kinds}
    unexpected = [{"kind": d.kind, "status": d.status, "expect": d.expect, "started_s": round(d.started_s, 2),
                   "detail": d.detail} for d in soak.done if d.status != str(d.expect)]
    accepted = sum(1 for d in soak.done if d.kind == "feedback" and d.status == "204")
    versions = _versions(soak)
    payload = {
        "schema_version": 1, "minutes": soak.minutes, "rate_per_s": soak.rate, "duration_s": duration_s,
        "machine": machine, "config": {**config, "questions": questions_source, "warm_after_s": warm_s},
        "requests": len(soak.done), "statuses": _statuses(soak.done), "by_kind": by_kind,
        "unexpected": unexpected[:50], "unexpected_count": len(unexpected),
        "late_starts": sum(1 for d in soak.done if d.late_s > 1.0),
        "latency": latency([d.seconds for d in soak.done]), "per_minute": _minutes(soak),
        "serve": {**serve, "peak_rss_mb_rusage": peak_rss_mb}, "chroma": chroma, "samples": soak.samples,
        "reingest": soak.reingest, "versions": versions,
        "feedback": {"accepted": accepted, "rows_stored": feedback_rows}, "server_errors": server_errors,
    }
    payload["targets"] = targets(payload)
    return payload


def targets(p: dict) -> list[dict]:
    serve, after = p["serve"], p["versions"]["windows"]["after"]
    warm, end, first = serve["warm"], serve["end"], serve["first_minute_max"]
    growth = end["rss_mb"] / warm["rss_mb"] - 1 if warm and end else None
    mixed = sum(w.get("mixed", 0) for w in p["versions"]["windows"].values())
    return [
        _target("unexpected_statuses", "Responses other than the status each request must get (incl. transport errors)",
                "==", 0, "errors", p["unexpected_count"]),
        _target("rss_growth", f"`serve` RSS growth from {p['config']['warm_after_s']:.0f} s to the end", "<=",
                RSS_GROWTH_MAX, "ratio", growth),
        _target("fd_growth", "`serve` open file descriptors at the end minus the first minute's most", "<=", 0, "count",
                end["fds"] - first["fds"] if end and first else None),
        _target("thread_growth", "`serve` threads at the end minus the first minute's most", "<=", 0, "count",
                end["threads"] - first["threads"] if end and first else None),
        _target("mixed_versions", "Answers whose citations mix the old and new version of the edited document",
                "==", 0, "errors", mixed),
        _target("old_after_reingest", "Answers started after the re-ingest that still cite the old version",
                "==", 0, "errors", after.get("old", 0) if p["reingest"].get("ended_s") else None),
        _target("new_after_reingest", "Answers started after the re-ingest citing the new version (the edit was seen)",
                ">=", 1, "count", after.get("new", 0) if p["reingest"].get("ended_s") else None),
        _target("reingest_exit", "Exit status of the mid-soak `partnership ingest`", "==", 0, "count",
                p["reingest"].get("returncode")),
        _target("feedback_rows", "Feedback accepted (204) minus rows stored", "==", 0, "errors",
                None if p["feedback"]["rows_stored"] is None else p["feedback"]["accepted"] - p["feedback"]["rows_stored"]),
    ]


def _mb(value) -> str:
    return "—" if value is None else f"{value:.0f}"


def render(p: dict) -> str:
    m, c, s = p["machine"], p["config"], p["serve"]
    out = ["# Soak results", "",
           f"Run {m['date']} at commit `{m.get('git_commit')}`: `python -m bench --soak {p['minutes']:g}` "
           f"({p['duration_s']:.0f} s of traffic, {p['rate_per_s']:g} requests/s scheduled). {m['cpu_model']}, "
           f"{m['cores']} cores, {m['ram_gb']} GB; load average at start {m['load_avg_start']}, at end {m['load_avg_end']}"
           + (f"; other processes running: {'; '.join(m['busiest_other_processes'])}" if m["busiest_other_processes"] else "")
           + ".", "",
           f"Server: {c['server']}; store: {c['store']}. Questions: {c['questions']}.", "",
           "## Targets", "", "| Figure | Value | Target | Verdict |", "|---|---|---|---|"]
    for t in p["targets"]:
        v = verdict(t)
        out.append(f"| {t['description']} | {number(t['value'], t['unit'])} | {t['op']} {number(t['target'], t['unit'])} "
                   f"| {'**MISSED**' if v == 'MISSED' else v} |")
    out += ["", f"{p['requests']:,} requests; statuses {p['statuses']}; {p['late_starts']} started more than 1 s "
            f"after their scheduled time (the server was behind). Overall p50 / p95: "
            f"{number(p['latency']['p50_ms'], 'ms')} / {number(p['latency']['p95_ms'], 'ms')}.", "",
            "## Per minute", "",
            "| Minute | Requests | Unexpected | p50 / p95 ms (all) | p50 / p95 ms (answers) | `serve` RSS MiB "
            "| threads | fds | `chroma run` RSS MiB |", "|---|---|---|---|---|---|---|---|---|"]
    for row in p["per_minute"]:
        lat, ans = row["latency"], row["answer_latency"]
        out.append(f"| {row['minute']} | {row['requests']} | {row['unexpected']} "
                   f"| {number(lat['p50_ms'], 'ms')} / {number(lat['p95_ms'], 'ms')} "
                   f"| {number(ans['p50_ms'], 'ms')} / {number(ans['p95_ms'], 'ms')} | {_mb(row['rss_mb'])} "
                   f"| {row['threads'] if row['threads'] is not None else '—'} | {row['fds'] if row['fds'] is not None else '—'} "
                   f"| {_mb(row['chroma_rss_mb'])} |")
    out += ["", "## `serve` process", "", "| | RSS MiB | threads | fds |", "|---|---|---|---|"]
    for label, key in (("start (ready, before traffic)", "start"), ("first minute, most", "first_minute_max"),
                       (f"after {c['warm_after_s']:.0f} s", "warm"), ("end (last request done)", "end")):
        row = s.get(key)
        out.append(f"| {label} | {_mb(row and row['rss_mb'])} | {row['threads'] if row else '—'} | {row['fds'] if row else '—'} |")
    r, v = p["reingest"], p["versions"]
    report = r.get("report") or {}
    out += ["", f"Peak RSS (rusage): {_mb(s['peak_rss_mb_rusage'])} MiB; `chroma run` peak sampled "
            f"{_mb(p['chroma']['peak_rss_mb'])} MiB.", "", "## Re-ingest of the edited document", "",
            f"`{c['edited_document']}` edited in two places (bench/soak_traffic.py, EDITS), then `partnership ingest` "
            f"from {r.get('started_s', 0):.0f} s to {r.get('ended_s', 0):.0f} s (exit {r.get('returncode')}; "
            f"updated {report.get('updated', '—')}, unchanged {report.get('unchanged', '—')}).", "",
            "Answers citing the edited document, by which version their citations quote (either: text both "
            "versions share):", "", "| Window | old | new | either | mixed | unmatched |", "|---|---|---|---|---|---|"]
    for window, counts in v["windows"].items():
        out.append(f"| {window} | " + " | ".join(str(counts.get(k, 0)) for k in ("old", "new", "either", "mixed", "unmatched")) + " |")
    out += ["", "## Requests by kind", "", "| Kind | Requests | Must get | Statuses | p50 / p95 ms |", "|---|---|---|---|---|"]
    for kind, k in p["by_kind"].items():
        out.append(f"| {kind} | {k['requests']} | {k['expect']} | {k['statuses']} "
                   f"| {number(k['latency']['p50_ms'], 'ms')} / {number(k['latency']['p95_ms'], 'ms')} |")
    if p["unexpected"]:
        out += ["", "Unexpected responses (first 10):", ""] + [
            f"- {u['kind']} at {u['started_s']} s: {u['status']} (expected {u['expect']}): {u['detail']}" for u in p["unexpected"][:10]]
    if p["server_errors"]:
        out += ["", "Exceptions in the server log: " + "; ".join(p["server_errors"])]
    out += ["", "## How it is measured", "",
            f"Requests start on a fixed schedule ({p['rate_per_s']:g}/s, open loop), at most {c['max_in_flight']} in "
            "flight; the mix repeats every 20 requests (bench/soak_traffic.py: questions, questions about the edited "
            "document, follow-ups with history, calculations asked in words and through /calculate, off-topic "
            "questions, feedback, /documents and 13 kinds of client mistakes, each with the one status it must get). "
            "Question texts carry their request number, so caches never hide a leak. RSS, threads and open file "
            f"descriptors come from /proc every {c['sample_every_s']:g} s. Growth is measured from the warm state "
            "(after the first minute: thread pool and keep-alive connections in use), not from the idle start; "
            "the service's bounded caches (512 query vectors, sentence vectors, word stems) may still be filling. Half-way through, the edited document is written to the corpus copy and `partnership ingest` "
            "runs against the same Chroma server; each answer's citations of that document are matched against both "
            "versions' text. Feedback rows are counted in the SQLite file after the server stops."]
    return "\n".join(out) + "\n"


def write(payload: dict, out_dir: Path) -> tuple[Path, Path]:
    validate_soak(payload)  # never write a report that breaks its own schema
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "soak.json", out_dir / "soak.md"
    json_path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    md_path.write_text(render(payload), encoding="utf-8")
    return json_path, md_path
