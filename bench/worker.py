"""Entry point of bench child processes: `python -m bench.worker <task> <args.json> <result.json>`.

Heavy imports (torch, chromadb) happen only here, inside the task, never in the orchestrator.
"""
from __future__ import annotations

import importlib
import json
import logging
import sys
import warnings

# task name -> "module:function"; each function takes the args dict and returns a JSON-able dict.
TASKS = {
    "ingest_corpus": "bench.ingest_bench:worker",
    "scale_ingest": "bench.scale_bench:ingest_worker",
    "retrieval_build": "bench.scale_bench:build_worker",
    "retrieval_recall": "bench.scale_bench:recall_worker",
    "retrieval_query": "bench.scale_bench:query_worker",
    "answer_warm": "bench.answer_bench:worker",
    "baseline": "bench.baseline_bench:worker",
}


def main(argv: list[str]) -> int:
    task, args_path, result_path = argv
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    module_name, func_name = TASKS[task].split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    with open(args_path, encoding="utf-8") as fh:
        args = json.load(fh)
    result = func(args)
    with open(result_path, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
