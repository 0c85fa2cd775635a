"""HTTP: `partnership serve` on an ephemeral 127.0.0.1 port under 1, 8 and 32 concurrent clients
(asyncio + httpx, a bounded number of POST /ask requests per level)."""
from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import time

import httpx

from bench.context import Ctx, partnership_command
from bench.proc import child_env
from bench.stats import latency

HOST = "127.0.0.1"
READY_TIMEOUT_S = 240
WARMUP_REQUESTS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def run(ctx: Ctx) -> dict:
    plan = ctx.plan
    port = free_port()
    env = child_env(PARTNERSHIP_DATA_DIR=str(ctx.require_index()), PARTNERSHIP_CORPUS_DIR=str(ctx.corpus),
                    PARTNERSHIP_RATE_LIMIT_PER_MINUTE="100000000")  # the limiter must not turn load into 429s
    log_path = ctx.workdir / "serve.log"
    log = log_path.open("w+b")
    started = time.perf_counter()
    server = subprocess.Popen(partnership_command() + ["serve", "--host", HOST, "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://{HOST}:{port}"
        wait_ready(server, base, log)
        ready_s = time.perf_counter() - started  # process start -> /readyz answers 200, warming over
        levels = asyncio.run(_load(base, ctx.questions, plan.http_levels, plan.http_requests))
    finally:
        peak_rss = stop_server(server)
        log.close()
    return {"server": f"partnership serve --host {HOST} --port <ephemeral>, rate limit lifted",
            "ready_s": ready_s, "server_peak_rss_mb": peak_rss, "requests_per_level": plan.http_requests,
            "questions": "eval questions cycled, each suffixed with its request number so no two are alike "
                         "(the server's query-vector cache never hits)",
            "levels": levels, "server_errors": server_errors(log_path)}


def server_errors(log_path) -> list[str]:
    """The distinct exception lines in the server log (what the 5xx were), at most five."""
    found: list[str] = []
    for line in log_path.read_text(errors="replace").splitlines():
        if re.match(r"^[A-Za-z_.]+(Error|Exception)\b", line) and line not in found:
            found.append(line.strip())
    return found[:5]


def wait_ready(server: subprocess.Popen, base: str, log) -> None:
    deadline = time.perf_counter() + READY_TIMEOUT_S
    with httpx.Client(timeout=5) as client:
        while time.perf_counter() < deadline:
            if server.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited {server.returncode}: {log.read().decode(errors='replace')[-400:]}")
            try:
                ready = client.get(f"{base}/readyz")
                if ready.status_code == 200 and not ready.json().get("warming"):
                    return  # measured once the start-up warming of sentence vectors is over
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise RuntimeError(f"server not ready within {READY_TIMEOUT_S} s")


def stop_server(server: subprocess.Popen) -> float | None:
    """Stop the server (SIGINT: uvicorn's graceful shutdown) and return its peak RSS in MiB."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGINT)
    deadline = time.perf_counter() + 20
    while time.perf_counter() < deadline:
        pid, status, usage = os.wait4(server.pid, os.WNOHANG)
        if pid:
            server.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_maxrss / 1024.0
        time.sleep(0.05)
    os.killpg(server.pid, signal.SIGKILL)
    _, status, usage = os.wait4(server.pid, 0)
    server.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024.0


async def _load(base: str, questions: list[str], levels, requests: int) -> list[dict]:
    out = []
    serial = 0

    def next_question() -> str:
        nonlocal serial
        serial += 1
        return f"{questions[serial % len(questions)]} {serial}"

    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        for _ in range(WARMUP_REQUESTS):
            await client.post("/ask", json={"question": next_question()})
    for concurrency in levels:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
            remaining = requests
            times: list[float] = []
            statuses: dict[str, int] = {}

            async def one_client():
                nonlocal remaining
                while remaining > 0:  # bounded: exactly `requests` requests per level
                    remaining -= 1
                    started = time.perf_counter()
                    try:
                        response = await client.post("/ask", json={"question": next_question()})
                        key = str(response.status_code)
                    except httpx.HTTPError as exc:
                        key = exc.__class__.__name__
                    times.append(time.perf_counter() - started)
                    statuses[key] = statuses.get(key, 0) + 1

            started = time.perf_counter()
            await asyncio.gather(*(one_client() for _ in range(concurrency)))
            wall = time.perf_counter() - started
        out.append({"concurrency": concurrency, "requests": len(times), "wall_s": wall,
                    "requests_per_s": len(times) / wall, "latency": latency(times), "statuses": statuses,
                    "errors": sum(v for k, v in statuses.items() if k != "200")})
    return out
