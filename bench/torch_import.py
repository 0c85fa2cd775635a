"""The yardstick of the cold-start target: `python -c "import torch"` in a new process, timed in the same
run as `partnership ask` (the issue's target is a multiple of it, so machine load affects both alike)."""
from __future__ import annotations

import sys

from bench.proc import child_env, run_measured

COMMAND = [sys.executable, "-c", "import torch"]


def time_once(timeout: float) -> float:
    done = run_measured(COMMAND, child_env(), timeout)
    if done.returncode != 0:
        raise RuntimeError(f"`python -c \"import torch\"` exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return done.wall_s
