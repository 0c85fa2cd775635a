"""`python -m bench [--quick] [--out DIR]`: run every benchmark once, write latest.json and latest.md.

`python -m bench --soak [MINUTES]` runs only the soak (bench/soak.py) and writes soak.json and soak.md.

The orchestrator stays light (no torch): each area runs its measured work in child processes.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from rich.console import Console

from bench import answer_bench, baseline_bench, http_bench, ingest_bench, report, scale_bench, soak
from bench.context import Ctx, Plan
from bench.proc import REPO
from bench.questions import load_questions
from bench.schema import SCHEMA_VERSION, SECTIONS

# Order matters: ingest builds the corpus index the later sections use.
DEFAULT_VECTOR_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "partnership-bench"
RUNNERS = {"ingest": ingest_bench.run, "scale": scale_bench.run, "answer": answer_bench.run,
           "http": http_bench.run, "baseline": baseline_bench.run}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the bench runs (figures mean nothing)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results",
                        help="folder for latest.json and latest.md (default: bench/results)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated subset of {','.join(SECTIONS)} (ingest always runs first)")
    parser.add_argument("--vector-cache", type=Path, default=DEFAULT_VECTOR_CACHE,
                        help="keep built synthetic-vector collections here between full runs (default: %(default)s)")
    parser.add_argument("--no-cache", action="store_true", help="build the synthetic-vector collections afresh (in the scratch folder)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (its path is printed)")
    parser.add_argument("--soak", type=float, nargs="?", const=10.0, default=None, metavar="MINUTES",
                        help="run only the soak: mixed traffic against `partnership serve` for MINUTES "
                             "(default 10) with a re-ingest half-way; writes soak.json and soak.md")
    parser.add_argument("--soak-rate", type=float, default=soak.DEFAULT_RATE, metavar="PER_S",
                        help="requests per second the soak starts (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.soak is not None:
        return run_soak(args)
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        print(f"Error: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    console = Console(stderr=True)
    plan = Plan.quick_plan() if args.quick else Plan.full()
    load_start = os.getloadavg()
    questions, source = load_questions(plan.question_limit)
    ctx = Ctx(plan=plan, workdir=Path(tempfile.mkdtemp(prefix="partnership-bench-")), questions=questions,
              questions_source=source,
              # --quick always builds (that is what it checks); a full run reuses identical collections.
              vector_cache=None if args.quick or args.no_cache else args.vector_cache)
    started = time.perf_counter()
    sections: dict[str, dict] = {}
    try:
        for name in ["ingest"] + [s for s in SECTIONS if s in wanted and s != "ingest"]:
            console.print(f"[bold]bench:[/] {name} …", highlight=False)
            t0 = time.perf_counter()
            try:
                sections[name] = {"status": "ok", "data": RUNNERS[name](ctx)}
            except Exception as exc:  # one broken area must not hide the others' figures
                detail = traceback.format_exception_only(exc)[-1].strip()
                sections[name] = {"status": "error", "error": detail, "data": {}}
                console.print(f"[red]bench: {name} failed:[/] {detail}", highlight=False)
            sections[name]["seconds"] = time.perf_counter() - t0
    finally:
        if args.keep:
            console.print(f"bench: scratch folder kept at {ctx.workdir}")
        else:
            shutil.rmtree(ctx.workdir, ignore_errors=True)
    payload = {
        "schema_version": SCHEMA_VERSION,
        "quick": plan.quick,
        "plan": plan.to_dict(),
        "machine": report.machine_info(load_start),
        "duration_s": time.perf_counter() - started,
        "sections": sections,
        "targets": report.targets(sections),
        "growth": report.growth(sections),
        "ratios": report.ratios(sections),
    }
    json_path, md_path = report.write(payload, args.out)
    report.print_table(payload, Console())
    console.print(f"bench: wrote {json_path} and {md_path}", highlight=False)
    return 1 if any(s["status"] != "ok" for s in sections.values()) else 0


def run_soak(args: argparse.Namespace) -> int:
    """The soak alone; exit 1 when a target is missed."""
    if args.soak <= 0 or args.soak_rate <= 0:
        print("Error: --soak MINUTES and --soak-rate must be above 0", file=sys.stderr)
        return 2
    console = Console(stderr=True)
    console.print(f"[bold]bench:[/] soak for {args.soak:g} min at {args.soak_rate:g} requests/s …", highlight=False)
    try:
        payload, json_path, md_path = soak.run(args.soak, args.out, rate=args.soak_rate, keep=args.keep)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:  # a process that would not start or finish
        console.print(f"[red]bench: the soak could not run:[/] {exc}", highlight=False)
        return 2
    for t in payload["targets"]:
        style = {"met": "green", "MISSED": "bold red"}.get(report.verdict(t), "yellow")
        console.print(f"  {t['description']}: {t['value']} ({t['op']} {t['target']:g}) [{style}]{report.verdict(t)}[/]",
                      highlight=False)
    console.print(f"bench: wrote {json_path} and {md_path}", highlight=False)
    return 0 if all(t["met"] for t in payload["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
