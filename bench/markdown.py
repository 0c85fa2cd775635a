"""latest.md: the results as a readable report (targets first, then each area, then how it was measured)."""
from __future__ import annotations

from collections.abc import Callable


def number(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit in ("errors", "count"):
        return f"{value:,.0f}"
    if unit == "ratio" or (unit == "" and isinstance(value, float) and value <= 1.0):
        return f"{value:.3f}"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _spread(s: dict | None, unit: str = "s") -> str:
    if not s or s.get("median") is None:
        return "—"
    if s["n"] == 1:
        return number(s["median"], unit)
    return f"{number(s['median'], unit)} (min {number(s['min'], unit)}, max {number(s['max'], unit)}, n={s['n']})"


def _lat(lat: dict | None, sep: str = " | ") -> str:
    """p50, p95, p99 in ms: three table cells, or one cell with sep=" / "."""
    if not lat or lat.get("p50_ms") is None:
        return sep.join("—" * 3)
    return sep.join(f"{lat[k]:.1f}" for k in ("p50_ms", "p95_ms", "p99_ms"))


def _section(payload: dict, name: str) -> tuple[dict | None, str | None]:
    section = payload["sections"].get(name)
    if not section:
        return None, "not run"
    if section["status"] != "ok":
        return None, f"**FAILED:** {section['error']}"
    return section["data"], None


def render(payload: dict, verdict: Callable[[dict], str]) -> str:
    m = payload["machine"]
    out = ["# Benchmark results", ""]
    if payload["quick"]:
        out += ["> **--quick run**: tiny sizes to check that the bench works; the figures mean nothing.", ""]
    out += [f"Run {m['date']} at commit `{m.get('git_commit')}`, {payload['duration_s']:.0f} s in total. "
            f"Command: `python -m bench{' --quick' if payload['quick'] else ''}`.", "",
            "| Machine | |", "|---|---|",
            f"| CPU | {m['cpu_model']}, {m['cores']} cores |", f"| RAM | {m['ram_gb']} GB |",
            f"| Python | {m['python']} on {m['platform']} |",
            "| Packages | " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()) + " |", ""]
    busy = m["busiest_other_processes"]
    noisy = m["load_avg_start"][0] > 0.5 or m["load_avg_end"][0] > 2.5 or busy
    out += [f"Load average (1/5/15 min) at start {m['load_avg_start']}, at end {m['load_avg_end']}. "
            + ("**Other processes were running on this machine during the run, so timings are noisy**"
               + (f" (busiest at the end: {'; '.join(busy)})" if busy else "") + "." if noisy else
               "The machine was otherwise idle."), ""]

    out += ["## Targets", "", "| Figure | Value | Target | Verdict |", "|---|---|---|---|"]
    for t in payload["targets"]:
        v = verdict(t)
        out.append(f"| {t['description']} | {number(t['value'], t['unit'])} | {t['op']} {number(t['target'], t['unit'])} "
                   f"| {'**MISSED**' if v == 'MISSED' else v} |")
    out += ["", "Ours / naive baseline: " + ", ".join(
        f"{k} = {'—' if v is None else f'{v:.2f}'}" for k, v in payload["ratios"].items()), ""]
    for part in (_growth, _ingest, _scale, _retrieval, _answer, _http, _baseline):
        out += part(payload) + [""]
    out += _method(payload)
    return "\n".join(out) + "\n"


def _growth(payload: dict) -> list[str]:
    rows = payload.get("growth") or []
    out = ["## How cost grows", ""]
    if not rows:
        return out + ["Not measured (the scale section did not run)."]
    sizes = list(rows[0]["values"])
    out += ["Each figure at " + " / ".join(f"{int(n):,}" for n in sizes) + " chunks, and how it grows, read off "
            "those figures: the slope k of log(cost) against log(chunks) (cost ∝ chunks^k; k below 0.05 is flat, "
            "below 0.3 logarithmic, below 0.8 sub-linear, below 1.2 linear). Ingest with the real model runs at "
            "1,000 and 10,000 chunks only; the index build at every size inserts synthetic vectors (no model), "
            "as the retrieval rows below use.", "",
            "| Figure | " + " | ".join(f"{int(n):,} chunks" for n in sizes) + " | Growth |",
            "|---|" + "---|" * len(sizes) + "---|"]
    for row in rows:
        cells = " | ".join("—" if v is None else _plain(v, row["unit"]) for v in row["values"].values())
        out.append(f"| {row['figure']} | {cells} | {row['sentence']} |")
    return out


def _plain(value: float, unit: str) -> str:
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def _ingest(payload: dict) -> list[str]:
    d, problem = _section(payload, "ingest")
    out = ["## Ingest of corpus/", ""]
    if problem:
        return out + [problem]
    c = d["cold_cli"]
    return out + [
        f"{d['files']} files, {d['chunks']} chunks; index {d['index_size_mb']:.1f} MiB on disk (the model's ONNX export "
        "not counted).", "",
        "| Step | Time | Chunks/s | Peak RSS |", "|---|---|---|---|",
        f"| Cold `partnership ingest` (process start to exit) | {number(c['wall_s'], 's')} "
        f"| {c['chunks_per_s_incl_startup']:.1f} (incl. start-up) | {c['peak_rss_mb']:.0f} MiB |",
        f"| Fresh index, model loaded (`ingest_paths`) | {_spread(d['fresh_index']['seconds'])} "
        f"| {_spread(d['fresh_index']['chunks_per_s'], '')} | {d['worker_peak_rss_mb']:.0f} MiB (whole worker) |",
        f"| Raw embedding of the same texts ({d['raw_embedding'].get('texts', '?')}: each chunk and its parts) "
        f"| {_spread(d['raw_embedding']['seconds'])} "
        f"| {_spread(d['raw_embedding']['chunks_per_s'], '')} | |",
        f"| No-op re-ingest | {_spread(d['noop_reingest_s'])} | | |",
        f"| One changed file ({d['changed_file']['file']}, "
        f"{_spread(d['changed_file']['chunks_reembedded'], '')} chunk(s) re-embedded) "
        f"| {_spread(d['changed_file']['seconds'])} | | |", "",
        f"Model load in the worker: {number(d['model_load_s'], 's')}. Ingest / raw throughput: "
        f"{number(d['ingest_over_raw'], 'ratio')} (both in chunks/s over the same texts: a chunk costs its own vector and "
        "one per part). The same texts embedded the way the ingest batches them "
        f"(files in order, {d['upsert_batch']} chunks a model call) took {number(d['raw_embedding_in_ingest_batches_s'], 's')} "
        "(one run), against the raw figure above."]


def _scale(payload: dict) -> list[str]:
    d, problem = _section(payload, "scale")
    out = ["## Scale: synthetic corpora", ""]
    if problem:
        return out + [problem]
    out += [f"Generator: {d['generator']}. Retrieval columns: `Assistant.retrieve` with the real model on "
            "the ingested synthetic index (first call builds BM25 and embeds section titles).", "",
            "| Documents | Chars | Chunks | Ingest | Docs/s | Chunks/s | Index on disk | Peak RSS "
            "| First retrieve | Retrieve p50 / p95 ms |", "|---|---|---|---|---|---|---|---|---|---|"]
    for c in d["corpora"]:
        p = c.get("progress") or {}
        if c.get("error") or c.get("stopped_at_time_limit"):
            why = (f"**stopped at the {payload['plan']['scale_time_limit_s']:.0f} s time limit**"
                   if c.get("stopped_at_time_limit") else f"**FAILED:** {c['error']}")
            got = (f": {p['chunks_done']:,} of {p['chunks_total'] or '?'} chunks in {p['elapsed_s']:.0f} s"
                   if p else "")
            out.append(f"| {c['documents']:,} | {c['chars']:,} | — | {why}{got} | — | {number(p.get('chunks_per_s'))} "
                       "| — | — | — | — |")
            continue
        out.append(f"| {c['documents']:,} | {c['chars']:,} | {c['chunks']:,} | {number(c['ingest_s'], 's')} "
                   f"| {c['docs_per_s']:.1f} | {c['chunks_per_s']:.1f} | {c['index_size_mb']:.1f} MiB "
                   f"| {c['peak_rss_mb']:.0f} MiB | {number(c['first_retrieve_s'], 's')} "
                   f"| {c['retrieve']['p50_ms']:.1f} / {c['retrieve']['p95_ms']:.1f} |")
    rates = [f"{c['documents']:,} docs: {number(c['progress']['chunks_per_s_first_fifth'])} → "
             f"{number(c['progress']['chunks_per_s_last_fifth'])}" for c in d["corpora"] if c.get("progress")]
    if rates:
        out += ["", "Chunks/s in the first → last fifth of each ingest (a drop means per-file costs grow with "
                "the index): " + "; ".join(rates) + "."]
    return out


def _retrieval(payload: dict) -> list[str]:
    d, problem = _section(payload, "scale")
    out = ["## Retrieval at scale (synthetic vectors)", ""]
    if problem:
        return out + [problem]
    r = d["retrieval"]
    if r.get("error"):
        return out + [f"**FAILED:** {r['error']}"]
    out += [f"Vectors: {r['vectors']}. Texts: {r['texts']}. Uniform queries: {r['uniform_queries']}; "
            f"near queries: {r['near_queries']}. Collections are opened by `ChunkStore` (cosine, "
            "M and ef as in assistant/store.py: ef_search is set for the collection's size when a store opens it); "
            "recall is measured in a fresh process that opens the collection that way. Dense queries ask for the "
            "retriever's candidate count. The hybrid columns run `HybridRetriever.invoke` unchanged except that "
            "query vectors are looked up instead of computed by the model, in a process of their own: its peak "
            "RSS is what serving that index holds without the model.", "",
            "| Chunks | Build | M / ef_construction / ef_search | Dense p50 / p95 / p99 ms | Hybrid p50 / p95 / p99 ms "
            "| BM25 build / first query | Recall@5 uniform | Recall@5 near | Near: source in top 5 | Disk | Query RSS |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in r["sizes"]:
        reused = f", reused from a build at {s['built_at']}" if s.get("build_reused") else ""
        out.append(f"| {s['chunks']:,} | {number(s['build_s'], 's')} ({s['vectors_per_s']:.0f}/s{reused}) "
                   f"| {s['hnsw_m']} / {s['ef_construction']} / {s['ef_search']} "
                   f"| {_lat(s['dense_query'], ' / ')} | {_lat(s.get('hybrid_query'), ' / ')} "
                   f"| {number(s.get('bm25_build_s'), 's')} / {number(s.get('first_hybrid_query_s'), 's')} "
                   f"| {s['recall_at_5_uniform_queries']:.3f} | {s['recall_at_5_near_queries']:.3f} "
                   f"| {s['near_source_found_at_5']:.3f} "
                   f"| {s['index_size_mb']:.0f} MiB | {s['query_process_peak_rss_mb']:.0f} MiB |")
    return out


def _answer(payload: dict) -> list[str]:
    d, problem = _section(payload, "answer")
    out = ["## Answering", ""]
    if problem:
        return out + [problem]
    w, b = d["warm"], d["warm"]["in_process_breakdown_s"]
    return out + [
        f"Cold start to first answer: {_spread(d['cold_start']['seconds'])}, peak RSS "
        f"{d['cold_start']['peak_rss_mb']:.0f} MiB ({d['cold_start']['command']}). In the same run, interleaved "
        f"with it, `python -c \"import torch\"` in a new process took {_spread(d['cold_start']['import_torch_s'])}"
        f"{_over(d['cold_start'])}.", "",
        "Where the cold start goes (measured in the warm worker): " + ", ".join(
            f"{k.replace('_', ' ')} {v:.2f} s" for k, v in b.items()) + ".", "",
        f"Warm `Assistant.ask` over {w['questions']} questions × {w['passes']} passes ({w['questions_source']}); "
        f"{w['errors']} errors, {w['answered_without_retrieval']} answers came from the calculator router "
        "without retrieval. Per-pass p95: " + _spread(w["p95_ms_per_pass"], "ms") + ". "
        + (f"Before timing, the quotable sentences of the index were embedded "
           f"({w['sentence_warm']['sentences']} sentences, {w['sentence_warm']['seconds']:.1f} s), as `serve` and "
           "`slack` do in the background at start; the query-vector cache is cleared before each pass."
           if w.get("sentence_warm") else ""), "",
        "| Part | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|",
        f"| Whole ask | {_lat(w['total'])} |", f"| Retrieval | {_lat(w['retrieval'])} |",
        f"| Answer (everything else) | {_lat(w['answer'])} |"]


def _over(cold: dict) -> str:
    ask, torch = cold["seconds"]["median"], cold["import_torch_s"]["median"]
    return f" (cold start / import torch = {ask / torch:.2f}, medians)" if ask and torch else ""


def _http(payload: dict) -> list[str]:
    d, problem = _section(payload, "http")
    out = ["## HTTP", ""]
    if problem:
        return out + [problem]
    rss = d.get("server_peak_rss_mb")
    out += [f"{d['server']}; ready (and sentence vectors warmed) after {number(d['ready_s'], 's')}, server peak RSS "
            f"{'—' if rss is None else f'{rss:.0f} MiB'}. {d['requests_per_level']} POST /ask per level; "
            f"{d['questions']}. Client: httpx + asyncio on the same machine.", ""]
    if d.get("server_errors"):
        out += [f"**Exceptions in the server log:** {'; '.join(d['server_errors'])}", ""]
    out += ["| Concurrency | Requests | Req/s | p50 ms | p95 ms | p99 ms | Errors | Statuses |",
            "|---|---|---|---|---|---|---|---|"]
    for lv in d["levels"]:
        out.append(f"| {lv['concurrency']} | {lv['requests']} | {lv['requests_per_s']:.1f} | {_lat(lv['latency'])} "
                   f"| {lv['errors']} | {lv['statuses']} |")
    return out


def _baseline(payload: dict) -> list[str]:
    d, problem = _section(payload, "baseline")
    out = ["## Side by side with the naive LangChain RAG baseline", ""]
    if problem:
        return out + [problem]
    acc = d["accuracy"]
    out += [f"Baseline: {d['pipeline']} ({d['chunks']} chunks). Same questions ({d['questions_source']}), "
            f"same embeddings object, same process; ask latency from {d['ask_latency_from']}.", "",
            "| | Ours | Baseline |", "|---|---|---|",
            f"| Ingest (model loaded) | see Ingest: fresh index | {_spread(d['ingest_s'])} |",
            f"| Ask p50 / p95 / p99 ms | {_lat(d['ask_ours'], ' / ')} | {_lat(d['ask_baseline'], ' / ')} |"]
    if "error" in acc:
        return out + ["", f"Accuracy: {acc['error']}"]
    for key in ("pass_rate", "fact_coverage", "recall_at_5", "mrr", "citation_precision", "decline_accuracy",
                "calc_exact", "errors", "items"):
        out.append(f"| eval {key} | {number(acc['ours'].get(key))} | {number(acc['baseline'].get(key))} |")
    return out


def _method(payload: dict) -> list[str]:
    return ["## How it is measured", "",
            "- Every step that reports memory runs in its own process; peak RSS is that process's `ru_maxrss` "
            "from `os.wait4` (stdlib), so it includes Python, torch and the model.",
            "- Noisy figures are repeated and shown as median (min, max, n); latency percentiles pool all "
            "repeats. Warm asks clear the query-vector cache before each pass, so each question pays for its "
            "embedding.",
            "- Synthetic data is generated from fixed seeds (bench/synthetic.py) so runs are comparable.",
            "- The eval figures come from the eval harness (`eval.runner.evaluate`) on eval/dataset.yaml.",
            f"- Plan: `{payload['plan']}`."]
