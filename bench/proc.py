"""Running measured child processes: wall time and the child's own peak RSS (os.wait4 rusage, stdlib).

Every bench step that reports memory runs in a fresh process, so its peak RSS is its own and not the
orchestrator's. Bench workers are `python -m bench.worker <task> <args.json> <result.json>`.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Measured:
    returncode: int
    wall_s: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False


class WorkerError(RuntimeError):
    """A bench worker failed; the message carries the tail of its stderr."""

    def __init__(self, message: str, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


def child_env(**overrides: str) -> dict[str, str]:
    """The environment for children: no inherited PARTNERSHIP_* settings (an LLM endpoint or API keys
    would change what is measured), offline model libraries, and the repo importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERSHIP_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
               TOKENIZERS_PARALLELISM="false", PYTHONPATH=str(REPO))
    env.update(overrides)
    return env


def run_measured(cmd: list[str], env: dict[str, str], timeout: float, cwd: Path = REPO) -> Measured:
    """Run `cmd` to completion (killed after `timeout` s) and return its wall time and peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        timed_out = False
        while True:  # poll wait4 so a hung child cannot hang the bench
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        return Measured(proc.returncode, wall, usage.ru_maxrss / 1024.0,  # Linux reports KiB
                        out.read().decode(errors="replace"), err.read().decode(errors="replace"), timed_out)


def call_worker(task: str, args: dict, workdir: Path, timeout: float, label: str | None = None) -> tuple[dict, Measured]:
    """Run a bench worker task in a fresh interpreter; returns (its JSON result, its measurements)."""
    workdir.mkdir(parents=True, exist_ok=True)
    label = label or task
    args_path = workdir / f"{label}.args.json"
    result_path = workdir / f"{label}.result.json"
    args_path.write_text(json.dumps(args, default=str))
    result_path.unlink(missing_ok=True)
    measured = run_measured([sys.executable, "-m", "bench.worker", task, str(args_path), str(result_path)],
                            child_env(), timeout)
    if measured.timed_out:
        raise WorkerError(f"{label}: killed after {timeout:.0f} s", timed_out=True)
    if measured.returncode != 0 or not result_path.exists():
        tail = "\n".join(measured.stderr.strip().splitlines()[-8:])
        raise WorkerError(f"{label}: exit {measured.returncode}: {tail}")
    return json.loads(result_path.read_text()), measured
