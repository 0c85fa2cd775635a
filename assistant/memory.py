"""Giving freed memory back to the operating system in long-running processes (glibc malloc).

Measured in the soak (bench/soak.py) with mallinfo2: the memory malloc had in use stayed flat (~190 MiB)
while the memory it held *free* grew from 48 to 200 MiB — torch's per-call buffers of varying sizes,
freed across many per-thread arenas, are kept by malloc instead of being returned, so RSS crept up. Two
glibc knobs fix that, both set from inside the process so they apply however `serve` is started:
fewer arenas (M_ARENA_MAX, as MALLOC_ARENA_MAX=2 would; set before the worker threads exist) and
`malloc_trim(0)` after the big frees (sentence warming, an index rebuild) and periodically.
On other C libraries every function here does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc mallopt parameter
ARENAS = 2
TRIM_EVERY_S = 30.0

_libc = None
_trimmer: threading.Thread | None = None
_lock = threading.Lock()


def _glibc():
    global _libc
    if _libc is None:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.malloc_trim  # glibc only
            libc.mallopt
        except (OSError, AttributeError):
            libc = False
        _libc = libc
    return _libc or None


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap malloc's arenas (MALLOC_ARENA_MAX, if set in the environment, is left alone). Call it early,
    before threads allocate: arenas already created stay."""
    libc = _glibc()
    if libc is None or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Return malloc's free pages (every arena) to the OS; True when some were released."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


def start_trimmer(every_s: float = TRIM_EVERY_S) -> threading.Thread | None:
    """A daemon thread calling `release_free_memory` every `every_s` seconds (one per process)."""
    global _trimmer
    if _glibc() is None:
        return None
    with _lock:
        if _trimmer is None or not _trimmer.is_alive():
            stop = threading.Event()

            def trim() -> None:
                while not stop.wait(every_s):
                    release_free_memory()

            _trimmer = threading.Thread(target=trim, name="malloc-trim", daemon=True)
            _trimmer.start()
    return _trimmer


def for_long_running_process() -> None:
    """What `serve` and `slack` call first (before they load anything): fewer arenas, and a periodic trim."""
    limit_arenas()
    start_trimmer()
