"""`python -m bench --soak MINUTES`: a steady mix of requests against a real `partnership serve` for
MINUTES, with the edited document re-ingested half-way; writes soak.json and soak.md.

The service runs as it would when re-ingested while serving (README, Reliability): a `chroma run` server
holds the index, `serve` and the mid-soak `partnership ingest` both use it. Everything is on 127.0.0.1,
and bounded: at most rate x duration requests (plus the re-ingest's overrun, itself bounded by a timeout).
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import report, soak_report
from bench.context import copy_corpus, partnership_command
from bench.http_bench import HOST, free_port, server_errors, stop_server, wait_ready
from bench.proc import child_env
from bench.soak_traffic import API_KEY, EDITED, Request, VersionCheck, edited_version, questions_by_kind, request_stream

DEFAULT_RATE = 4.0  # requests per second, started on a fixed schedule (open loop)
MAX_IN_FLIGHT = 8  # a schedule the server cannot keep up with waits here, and the start counts as late
REQUEST_TIMEOUT_S = 60
SAMPLE_EVERY_S = 5.0
INGEST_TIMEOUT_S = 600
CHROMA = Path(sys.executable).with_name("chroma")


@dataclass
class Done:
    kind: str
    path: str
    expect: int
    status: str  # the HTTP status, or the transport error's class name
    started_s: float  # since the soak began
    seconds: float
    late_s: float  # how long after its scheduled time it started
    version: str | None = None
    detail: str | None = None


@dataclass
class Soak:
    minutes: float
    rate: float = DEFAULT_RATE
    done: list[Done] = field(default_factory=list)
    samples: list[dict] = field(default_factory=list)
    reingest: dict = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.minutes * 60.0


def proc_sample(pid: int) -> dict | None:
    """RSS (MiB), threads and open file descriptors of a live process, from /proc."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {"rss_mb": int(fields["VmRSS"].split()[0]) / 1024.0, "threads": int(fields["Threads"]), "fds": fds}


def run(minutes: float, out_dir: Path, rate: float = DEFAULT_RATE, keep: bool = False) -> tuple[dict, Path, Path]:
    """Run the soak and write its report; returns (payload, json path, markdown path)."""
    load_start = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="partnership-soak-"))
    soak = Soak(minutes=minutes, rate=rate)
    processes: list[subprocess.Popen] = []
    try:
        corpus = copy_corpus(workdir / "corpus")
        chroma_port, port = free_port(), free_port()
        env = child_env(PARTNERSHIP_DATA_DIR=str(workdir / "data"), PARTNERSHIP_CORPUS_DIR=str(corpus),
                        PARTNERSHIP_CHROMA_HOST=HOST, PARTNERSHIP_CHROMA_PORT=str(chroma_port),
                        PARTNERSHIP_API_KEYS=API_KEY,
                        PARTNERSHIP_RATE_LIMIT_PER_MINUTE="100000000")  # the soak is one client: no 429s
        chroma = _start_chroma(workdir, chroma_port, processes)
        ingest = subprocess.run(partnership_command() + ["ingest", str(corpus), "--json"], env=env,
                                capture_output=True, text=True, timeout=INGEST_TIMEOUT_S)
        if ingest.returncode != 0:
            raise RuntimeError(f"the first ingest exited {ingest.returncode}: {ingest.stderr[-600:]}")
        log = (workdir / "serve.log").open("w+b")
        server = subprocess.Popen(partnership_command() + ["serve", "--host", HOST, "--port", str(port)], env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        processes.append(server)
        base = f"http://{HOST}:{port}"
        wait_ready(server, base, log)
        by_kind, follow_ups, questions_source = questions_by_kind()  # read before the clock starts
        started = time.time()
        asyncio.run(_drive(soak, request_stream(by_kind, follow_ups), base, server.pid, chroma.pid, corpus, env))
        duration = time.time() - started
        peak_rss = stop_server(server)
        log.close()
        payload = soak_report.build(
            soak, duration_s=duration, machine=report.machine_info(load_start), peak_rss_mb=peak_rss,
            server_errors=server_errors(workdir / "serve.log"), feedback_rows=_feedback_rows(workdir / "data"),
            questions_source=questions_source, config={
                "server": f"partnership serve --host {HOST} --port <ephemeral>, API key set, rate limit lifted",
                "store": f"chroma run on {HOST} (the re-ingest runs while serving)",
                "edited_document": EDITED, "max_in_flight": MAX_IN_FLIGHT,
                "request_timeout_s": REQUEST_TIMEOUT_S, "sample_every_s": SAMPLE_EVERY_S})
        json_path, md_path = soak_report.write(payload, out_dir)
        return payload, json_path, md_path
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                stop_server(process)
        if keep:
            print(f"soak: scratch folder kept at {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _start_chroma(workdir: Path, port: int, processes: list) -> subprocess.Popen:
    log = (workdir / "chroma.log").open("wb")
    chroma = subprocess.Popen([str(CHROMA), "run", "--path", str(workdir / "chroma-server"), "--host", HOST,
                               "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    processes.append(chroma)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{HOST}:{port}/api/v2/heartbeat", timeout=2).status_code == 200:
                return chroma
        except httpx.HTTPError:
            pass
        if chroma.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"chroma run did not start: {(workdir / 'chroma.log').read_text(errors='replace')[-600:]}")


def _feedback_rows(data_dir: Path) -> int | None:
    from assistant.feedback import stored_rows

    return stored_rows(data_dir / "feedback.sqlite3")


async def _drive(soak: Soak, requests, base: str, server_pid: int, chroma_pid: int, corpus: Path, env: dict) -> None:
    """Send the mix on schedule, sample the processes, and re-ingest the edited document half-way."""
    t0 = time.perf_counter()
    check = VersionCheck(corpus / EDITED)
    stop = asyncio.Event()

    async def sampler():
        while True:
            sample = {"t_s": time.perf_counter() - t0, "serve": proc_sample(server_pid), "chroma": proc_sample(chroma_pid)}
            soak.samples.append(sample)
            try:
                await asyncio.wait_for(stop.wait(), SAMPLE_EVERY_S)
                return
            except asyncio.TimeoutError:
                pass

    async def reingest():
        await asyncio.sleep(soak.seconds / 2)
        path = corpus / EDITED
        path.write_text(edited_version(path.read_text(encoding="utf-8")), encoding="utf-8")
        soak.reingest["started_s"] = time.perf_counter() - t0
        proc = await asyncio.create_subprocess_exec(*partnership_command(), "ingest", str(corpus), "--json", env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), INGEST_TIMEOUT_S)
        except asyncio.TimeoutError:
            proc.kill()
            out, err = await proc.communicate()
        soak.reingest.update(ended_s=time.perf_counter() - t0, returncode=proc.returncode,
                             stderr_tail=err.decode(errors="replace")[-400:])
        try:
            soak.reingest["report"] = json.loads(out)
        except ValueError:
            soak.reingest["report"] = None

    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT)
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        sampling = asyncio.create_task(sampler())
        ingesting = asyncio.create_task(reingest())
        pending = set()
        for i, request in enumerate(requests):
            due = t0 + i / soak.rate
            # Bounded: the schedule ends at MINUTES, or later only while the re-ingest is still running.
            if due - t0 >= soak.seconds and (ingesting.done() or due - t0 >= soak.seconds + INGEST_TIMEOUT_S):
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await slots.acquire()
            task = asyncio.create_task(_send(client, request, soak, check, t0, due, slots))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        await ingesting
        # The end figures: taken as the last request completes, before anything is stopped.
        soak.samples.append({"t_s": time.perf_counter() - t0, "serve": proc_sample(server_pid),
                             "chroma": proc_sample(chroma_pid), "end": True})
        stop.set()
        await sampling


async def _send(client: httpx.AsyncClient, request: Request, soak: Soak, check: VersionCheck, t0: float,
                due: float, slots: asyncio.Semaphore) -> None:
    started = time.perf_counter()
    headers = dict(request.headers)
    if request.auth:
        headers["Authorization"] = f"Bearer {request.auth}"
    version = detail = None
    try:
        response = await client.request(request.method, request.path, json=request.json, content=request.content,
                                        headers=headers)
        status = str(response.status_code)
        if request.is_answer and response.status_code == 200:
            version = check.classify(response.json())
        elif response.status_code != request.expect:
            detail = response.text[:200]
    except ValueError:  # a 200 from /ask whose body is not the Answer JSON
        detail = "the body is not JSON"
        status = "200-not-json"
    except httpx.HTTPError as exc:
        status, detail = exc.__class__.__name__, str(exc)[:200]
    finally:
        slots.release()
    soak.done.append(Done(request.kind, request.path, request.expect, status, started - t0,
                          time.perf_counter() - started, started - due, version, detail))
