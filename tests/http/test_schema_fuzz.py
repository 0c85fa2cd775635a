"""The HTTP API fuzzed from its own OpenAPI schema: schemathesis against a real `partnership serve`.

Every operation in /openapi.json gets schema-valid and schema-invalid requests (examples, coverage and
fuzzing phases) and every response must be a declared status, with the declared content type, body
schema and headers, and never a 5xx. Run three ways: a server with an API key, called with the key and
without it, and an open server (no keys). The rate limit is lifted so every request reaches the route.

The regression tests at the top are inputs the fuzzer found, named after them; they run in process.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.config import Settings
from integrations.http.app import create_app

SCHEMATHESIS = Path(sys.executable).with_name("st")
API_KEY = "fuzz-key-1"
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
])
GUARDED = {"POST /ask", "POST /ask/stream", "POST /calculate", "GET /calculate/partnerships", "GET /documents", "POST /feedback"}
OPERATIONS = 8  # the six above, /healthz and /readyz
# A fixed seed keeps `make test` reproducible; the failure report names the seed and an `st replay` id.
SEED = 16
NO_LIMIT = "1000000"


# ---- regressions: inputs the fuzzer found ------------------------------------------------------------

@pytest.fixture
def bare_client(tmp_path):
    """bare_client(**settings) -> a TestClient over an app with no Assistant: these inputs never reach one."""
    def make(**settings) -> TestClient:
        app = create_app(Settings(data_dir=tmp_path / "data", **settings), builder=None)
        return TestClient(app, raise_server_exceptions=False)

    return make


@pytest.mark.parametrize("path", ["/ask", "/calculate", "/feedback"])
@pytest.mark.parametrize("body", [b"\xc6\x15%", b'{"question": "caf\xe9"}'], ids=["0xc6", "latin-1-e-acute"])
def test_body_that_is_not_utf8_is_422_not_400(bare_client, path, body):
    # schemathesis sent '\xc6\xb8\x15%\x19...' as application/json: FastAPI answered an undeclared 400.
    response = bare_client().post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error.startswith("Malformed JSON body: not UTF-8 (byte 0x"), error
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_body_that_is_not_utf8_without_an_api_key_is_422_too(bare_client):
    # The body is read before the dependencies run, so the key is not checked yet (as for any malformed JSON).
    client = bare_client(api_keys="alpha")
    response = client.post("/feedback", content=b"\xc6", headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and "not UTF-8" in response.json()["error"]


def test_openapi_declares_every_error_with_the_error_model_and_its_headers(bare_client):
    spec = bare_client().get("/openapi.json").json()
    error_ref = "#/components/schemas/ErrorOut"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            declared = operation["responses"]
            expected = {"401", "413", "422", "429", "503"} if f"{method.upper()} {path}" in GUARDED else {"413"}
            assert expected <= set(declared), (method, path, sorted(declared))
            for status in expected:
                assert declared[status]["content"]["application/json"]["schema"]["$ref"] == error_ref
                assert declared[status]["headers"]["X-Request-ID"]["required"] is True
            if "429" in declared:
                assert declared["429"]["headers"]["Retry-After"]["required"] is True
    assert {"valid", "missing", "details"} <= set(spec["components"]["schemas"]["ErrorOut"]["properties"])


# ---- the fuzz run ------------------------------------------------------------------------------------

def run_schemathesis(server, workdir: Path, max_examples: int, *headers: str) -> dict:
    """Run `st run` against the server: its JSON report (failures, counts, warnings) and the server log of the run."""
    report = workdir / "schemathesis.json"
    log_start = len(server.log())
    command = [
        str(SCHEMATHESIS), "run", f"{server.url}/openapi.json",
        "--checks", CHECKS,
        "--max-examples", str(max_examples),
        "--seed", str(SEED),
        "--workers", "2",
        "--continue-on-failure",
        "--request-timeout", "60",
        "--generation-database", "none",
        "--no-color",
        "--report", "json", "--report-json-path", str(report),
    ]
    for header in headers:
        command += ["--header", header]
    started = time.monotonic()
    # cwd: schemathesis keeps a cache folder where it runs; keep it out of the repository.
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)
    assert report.exists(), f"schemathesis wrote no report (exit {done.returncode}):\n{done.stdout}{done.stderr}"
    result = json.loads(report.read_text())
    result["seconds"] = round(time.monotonic() - started, 1)
    result["output"] = done.stdout[-8000:] + done.stderr[-2000:]
    result["server_log"] = server.log()[log_start:]
    return result


def assert_clean(result: dict) -> None:
    assert result["exit_code"] == 0 and not result["failures"] and not result["errors"], result["output"]
    assert result["complete"], result["output"]
    assert result["operations"]["tested"] == result["operations"]["total"] == OPERATIONS, result["operations"]
    assert not result["warnings"]["rate_limited"], result["warnings"]
    assert "Traceback" not in result["server_log"] and " ERROR " not in result["server_log"]


@pytest.fixture(scope="module")
def keyed_server(index_copy, start_server):
    """A `partnership serve` that needs `Authorization: Bearer fuzz-key-1`, rate limit lifted."""
    server = start_server(index_copy("fuzz-keyed"), PARTNERSHIP_API_KEYS=API_KEY,
                          PARTNERSHIP_RATE_LIMIT_PER_MINUTE=NO_LIMIT)
    yield server
    server.stop()  # now, not at the end of the session: it holds a model and an index in memory


def test_fuzz_with_the_api_key_every_response_is_declared(keyed_server, tmp_path):
    result = run_schemathesis(keyed_server, tmp_path, 30, f"Authorization: Bearer {API_KEY}")
    print(f"\nwith the key: {result['test_cases']['generated']} cases in {result['seconds']} s")
    assert_clean(result)
    assert not result["warnings"]["missing_auth"], "the key was refused, so only 401s were fuzzed"


def test_fuzz_without_the_api_key_every_guarded_operation_is_401(keyed_server, tmp_path):
    result = run_schemathesis(keyed_server, tmp_path, 10)
    print(f"\nwithout the key: {result['test_cases']['generated']} cases in {result['seconds']} s")
    assert_clean(result)
    # schemathesis warns about operations that answered nothing but 401: exactly the guarded ones.
    assert set(result["warnings"]["missing_auth"]) == GUARDED, result["warnings"]


def test_fuzz_an_open_server_every_response_is_declared(live_server, tmp_path):
    # The session's shared open server (no keys; the LiveServer lifts the rate limit): no extra start-up.
    result = run_schemathesis(live_server, tmp_path, 15)
    print(f"\nopen server: {result['test_cases']['generated']} cases in {result['seconds']} s")
    assert_clean(result)
    assert not result["warnings"]["missing_auth"]
