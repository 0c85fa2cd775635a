"""The real service: `partnership serve` in a subprocess on 127.0.0.1, talked to over real HTTP."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
PARTNERSHIP = Path(sys.executable).with_name("partnership")

QUESTIONS = [
    "Who sits on the ELP board?",
    "What does the Hillingdon Learning Partnership offer schools?",
    "How much does the council contribute to the Ealing Learning Partnership?",
    "What did the review say about the future of partnerships in Hillingdon?",
]


def test_server_starts_prints_its_url_and_says_the_api_is_open(live_server):
    log = live_server.log()
    assert f"http://127.0.0.1:{live_server.port}/" in log
    assert "open (unauthenticated)" in log
    page = httpx.get(live_server.url + "/")
    assert page.status_code == 200 and "How is my subscription worked out?" in page.text


def test_ask_over_real_http_and_the_log_carries_the_request_id(live_server):
    response = httpx.post(live_server.url + "/ask", json={"question": QUESTIONS[0]}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"answer", "citations", "tool_calls", "grounded", "calculation"} and body["citations"]
    rid = response.headers["x-request-id"]
    assert re.search(rf"request_id={rid} POST /ask status=200", live_server.log())


def test_32_concurrent_requests_all_succeed(live_server):
    def ask(i: int) -> int:
        with httpx.Client(timeout=120) as http:
            return http.post(live_server.url + "/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]}).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(ask, range(32)))
    assert statuses == [200] * 32


def test_real_http_error_cases(live_server):
    url = live_server.url
    too_big = httpx.post(url + "/ask", content=b"{" + b" " * 70_000 + b"}", headers={"Content-Type": "application/json"})
    assert too_big.status_code == 413 and "64 KB" in too_big.json()["error"]
    malformed = httpx.post(url + "/ask", content=b"{nope", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 422 and "Malformed JSON" in malformed.json()["error"]
    assert httpx.get(url + "/readyz").json()["status"] == "ready"


def test_serve_refuses_a_busy_port_with_exit_2(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([str(PARTNERSHIP), "serve", "--port", str(port)], cwd=REPO,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_serve_rejects_an_invalid_port_with_exit_2():
    result = subprocess.run([str(PARTNERSHIP), "serve", "--port", "70000"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Invalid value for '--port'" in result.stderr and "65535" in result.stderr


def test_serve_warms_sentence_vectors_in_the_background_and_says_when_done(live_server):
    deadline = time.monotonic() + 180
    ready = httpx.get(live_server.url + "/readyz").json()
    while ready["warming"] and time.monotonic() < deadline:  # answers keep working meanwhile
        time.sleep(0.5)
        ready = httpx.get(live_server.url + "/readyz").json()
    assert ready == {"status": "ready", "detail": None, "warming": False}
    assert "warming the sentence vectors failed" not in live_server.log()


def test_ctrl_c_while_warming_stops_cleanly(private_index, start_server):
    server = start_server(private_index)
    assert httpx.get(server.url + "/readyz").json()["warming"]  # interrupted in the middle of warming
    assert server.stop() == 0, server.log()
    assert "terminate called" not in server.log()
