"""Every endpoint in process (TestClient) over the real Assistant and the real session index."""
from __future__ import annotations

import logging

import pytest
from fastapi import APIRouter

ANSWER_KEYS = {"answer", "citations", "tool_calls", "grounded", "calculation"}
CITATION_KEYS = {"n", "source", "title", "section", "page", "snippet"}
BOARD_QUESTION = "What is the ELP board made up of?"


def assert_error(response, status: int, *fragments: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error", "request_id"}
    assert body["request_id"] == response.headers["x-request-id"]
    for fragment in fragments:
        assert fragment.lower() in body["error"].lower(), body["error"]
    assert "Traceback" not in response.text
    return body


# ---- /ask ------------------------------------------------------------------------------------------

def test_ask_returns_the_answer_contract_with_citations(client, assistant):
    response = client.post("/ask", json={"question": BOARD_QUESTION})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == ANSWER_KEYS
    assert body["citations"], body
    for citation in body["citations"]:
        assert set(citation) == CITATION_KEYS
        assert citation["snippet"] and citation["title"]
    assert "[1]" in body["answer"]
    assert any(c["source"].startswith("ealing-elp") for c in body["citations"])
    # The endpoint is a faithful adapter: the same answer as the core gives.
    assert body == assistant.ask(BOARD_QUESTION).model_dump()


def test_ask_carries_a_calculation_as_data(client, assistant):
    question = "What would a 420-pupil maintained primary pay for ELP under scenario 2?"
    body = client.post("/ask", json={"question": question}).json()
    calc = body["calculation"]
    assert calc["partnership_key"] == "ealing" and calc["display"]["subscription"] == "£6,566"
    assert calc["totals"]["subscription"] == "6566.20"  # exact, as a string: money is never a float here
    assert calc["citations"] == [c["n"] for c in body["citations"]]
    assert any(line["display"] == "£6,566" for line in calc["working"])
    assert body == assistant.ask(question).model_dump(mode="json")
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"Calculation", "CalculationLine"} <= set(schema)


def test_ask_accepts_history_for_a_follow_up(client):
    first = client.post("/ask", json={"question": BOARD_QUESTION}).json()
    history = [{"role": "user", "content": BOARD_QUESTION}, {"role": "assistant", "content": first["answer"]}]
    response = client.post("/ask", json={"question": "and what does it cost a primary school?", "history": history})
    assert response.status_code == 200, response.text
    assert set(response.json()) == ANSWER_KEYS and response.json()["answer"].strip()


def test_ask_with_short_partnership_name_only_cites_that_partnership(client):
    documents = {d["source"]: d for d in client.get("/documents").json()}
    response = client.post("/ask", json={"question": "How is the partnership funded?", "partnership": "ealing"})
    assert response.status_code == 200, response.text
    citations = response.json()["citations"]
    assert citations
    for citation in citations:
        assert "Ealing Learning Partnership" in str(documents[citation["source"]]["partnership"])


def test_unknown_partnership_is_422_listing_valid_ones(client):
    body = assert_error(client.post("/ask", json={"question": BOARD_QUESTION, "partnership": "Narnia"}),
                        422, "unknown partnership 'Narnia'", "Ealing Learning Partnership", "Hillingdon Learning Partnership")
    assert "Ealing Learning Partnership" in body["valid"]


def test_ambiguous_partnership_is_422_naming_the_matches(client):
    body = assert_error(client.post("/ask", json={"question": BOARD_QUESTION, "partnership": "Education Partnership"}),
                        422, "ambiguous", "Haringey Education Partnership")
    assert len(body["valid"]) > 1


@pytest.mark.parametrize(("question", "fragment"), [
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("x" * 2001, "2,001 characters"),
])
def test_empty_or_overlong_question_is_422_saying_which(client, question, fragment):
    body = assert_error(client.post("/ask", json={"question": question}), 422, fragment)
    if "2,001" in fragment:
        assert "2,000" in body["error"]


def test_question_of_exactly_the_limit_is_accepted(client):
    question = ("Who sits on the ELP board? " * 80)[:2000]
    assert client.post("/ask", json={"question": question}).status_code == 200


@pytest.mark.parametrize(("body", "fragment"), [
    (b'{"question": "unterminated', "malformed json"),
    (b"not json at all", "malformed json"),
    (b"[1, 2]", "json object"),
    (b"{}", "question: field required"),
    (b'{"question": 42}', "question: input should be a valid string"),
    (b'{"question": "q", "history": [{"role": "system", "content": "x"}]}', "history.0.role"),
    (b'{"question": "q", "surprise": 1}', "surprise: extra inputs are not permitted"),
])
def test_malformed_or_invalid_json_is_422_with_a_message(client, body, fragment):
    response = client.post("/ask", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 422, fragment)


def test_body_over_64_kb_is_413(client):
    big = {"question": "q", "history": [{"role": "user", "content": "x" * 70_000}]}
    assert_error(client.post("/ask", json=big), 413, "larger than 64 KB")


def test_streamed_body_over_64_kb_without_content_length_is_413(client):
    def chunks():
        for _ in range(20):
            yield b"x" * 4096

    assert_error(client.post("/ask", content=chunks(), headers={"Content-Type": "application/json"}), 413, "64 KB")


def test_body_just_under_the_limit_is_parsed(client):
    filler = "y" * (64 * 1024 - 200)
    response = client.post("/ask", json={"question": BOARD_QUESTION, "history": [{"role": "user", "content": filler}]})
    assert response.status_code == 200, response.text


# ---- /documents, /feedback ---------------------------------------------------------------------------

def test_documents_lists_every_indexed_file(client):
    response = client.get("/documents")
    assert response.status_code == 200
    docs = response.json()
    assert {d["source"] for d in docs} == {
        "aepa-learning-locally-london-partnerships.txt", "ealing-elp-prospectus-2018-19.txt",
        "ealing-elp-qa-briefings-2017-11.txt", "hillingdon-hlp-invitation-to-join.txt",
        "hillingdon-partnership-review-slides-2021.txt",
    }
    for doc in docs:
        assert set(doc) == {"source", "title", "kind", "partnership", "chunks"}
        assert doc["chunks"] > 0 and doc["title"]


def test_feedback_is_stored_and_returns_204(make_client, tmp_path):
    from assistant.feedback import FeedbackStore

    client = make_client(data_dir=tmp_path / "fb-data")
    hostile = "'; DROP TABLE feedback; -- <script>alert(1)</script>"
    response = client.post("/feedback", json={"question": hostile, "answer": "The board [1].", "rating": "down",
                                              "comment": hostile})
    assert response.status_code == 204 and response.content == b""
    assert client.post("/feedback", json={"question": "q", "answer": "a", "rating": "up"}).status_code == 204
    rows = FeedbackStore(tmp_path / "fb-data" / "feedback.sqlite3").all()
    assert [(r["source"], r["question"], r["rating"], r["comment"]) for r in rows] == [
        ("http", hostile, "down", hostile), ("http", "q", "up", None),
    ]
    assert rows[0]["user_id"] == "ip:testclient"
    assert rows[1]["history"] is None and rows[1]["citations"] is None  # the old contract still works


def test_feedback_keeps_what_reproduces_the_answer(make_client, tmp_path):
    from assistant.feedback import FeedbackStore

    client = make_client(data_dir=tmp_path / "fb-data")
    asked = {"question": "And how often does it meet?", "history": [{"role": "user", "content": "Who chairs the ELP board?"}],
             "partnership": "Ealing"}
    answer = client.post("/ask", json=asked).json()
    body = {**asked, "answer": answer["answer"], "citations": answer["citations"], "rating": "down",
            "comment": "It meets termly", "expected_source": "ealing-elp-prospectus-2018-19.txt"}
    assert client.post("/feedback", json=body).status_code == 204
    row = FeedbackStore(tmp_path / "fb-data" / "feedback.sqlite3").all()[0]
    assert row["history"] == asked["history"] and row["filters"] == {"partnership": "Ealing"}
    assert row["citations"] == answer["citations"] and row["answer"] == answer["answer"]
    assert row["backend"] == "extractive" and row["expected_source"] == "ealing-elp-prospectus-2018-19.txt"
    assert row["index_marker"]["documents"] == 5 and row["index_marker"]["chunks"] > 0
    assert row["index_marker"]["model"].startswith("all-MiniLM-L6-v2") and row["index_marker"]["last_commit"]


@pytest.mark.parametrize(("body", "fragment"), [
    ({"question": "q", "answer": "a", "rating": "meh"}, "rating: input should be 'up' or 'down'"),
    ({"question": "q", "rating": "up"}, "answer: field required"),
    ({"question": "", "answer": "a", "rating": "up"}, "question: string should have at least 1 character"),
    ({"question": "q", "answer": "a", "rating": "up", "history": [{"role": "bot", "content": "x"}]}, "history.0.role"),
    ({"question": "q", "answer": "a", "rating": "up", "citations": [{"n": 1}]}, "citations.0.source: field required"),
])
def test_invalid_feedback_is_422(client, body, fragment):
    assert_error(client.post("/feedback", json=body), 422, fragment)


# ---- health ------------------------------------------------------------------------------------------

def test_healthz_and_readyz_with_a_loaded_index(client):
    assert client.get("/healthz").json() == {"status": "ok", "detail": None}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_empty_index_is_not_ready_and_ask_says_to_ingest(make_client, embeddings, tmp_path):
    from assistant.config import Settings
    from assistant.factory import build_assistant

    empty = build_assistant(Settings(data_dir=tmp_path / "empty"), embeddings=embeddings)
    client = make_client(assistant_=empty)
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "empty" in ready.json()["detail"]
    assert_error(client.post("/ask", json={"question": BOARD_QUESTION}), 503, "partnership ingest")
    assert client.get("/healthz").status_code == 200


def test_unreachable_chroma_server_is_503_naming_it(embeddings, tmp_path, free_port):
    from fastapi.testclient import TestClient

    from assistant.config import Settings
    from assistant.factory import build_assistant
    from integrations.http.app import create_app

    port = free_port()  # nothing listens there
    settings = Settings(data_dir=tmp_path / "d", chroma_host="127.0.0.1", chroma_port=port)
    app = create_app(settings, builder=lambda s: build_assistant(s, embeddings=embeddings))
    with TestClient(app, raise_server_exceptions=False) as client:  # runs the lifespan
        ready = client.get("/readyz")
        assert ready.status_code == 503 and f"127.0.0.1:{port}" in ready.json()["detail"]
        assert_error(client.post("/ask", json={"question": BOARD_QUESTION}), 503, f"127.0.0.1:{port}")
        assert client.get("/healthz").status_code == 200


# ---- auth --------------------------------------------------------------------------------------------

def test_without_api_keys_everything_is_open(client):
    assert client.get("/documents").status_code == 200
    assert client.post("/ask", json={"question": BOARD_QUESTION}).status_code == 200


def test_with_api_keys_the_api_needs_a_bearer_key(make_client):
    client = make_client(api_keys=" alpha , beta ")
    assert_error(client.get("/documents"), 401, "missing api key")
    assert client.get("/documents").headers["www-authenticate"] == "Bearer"
    assert_error(client.get("/documents", headers={"Authorization": "Bearer gamma"}), 401, "invalid api key")
    assert_error(client.get("/documents", headers={"Authorization": "Basic alpha"}), 401)
    assert_error(client.post("/ask", json={"question": BOARD_QUESTION}), 401)
    assert_error(client.post("/feedback", json={"question": "q", "answer": "a", "rating": "up"}), 401)
    assert_error(client.post("/calculate", json={}), 401)
    for key in ("alpha", "beta"):
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/documents", headers=headers).status_code == 200
        assert client.post("/ask", json={"question": BOARD_QUESTION}, headers=headers).status_code == 200


def test_with_api_keys_probes_and_the_page_stay_open(make_client):
    client = make_client(api_keys="alpha")
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and "Partnership Assistant" in page.text
    for asset in ("/static/app.js", "/static/app.css"):
        assert client.get(asset).status_code == 200


def test_auth_is_checked_before_the_body(make_client):
    client = make_client(api_keys="alpha")
    assert_error(client.post("/ask", json={"question": ""}), 401)


# ---- rate limit --------------------------------------------------------------------------------------

def test_rate_limit_is_429_with_retry_after(make_client):
    client = make_client(rate_limit_per_minute=3)
    for _ in range(3):
        assert client.get("/documents").status_code == 200
    limited = client.post("/ask", json={"question": BOARD_QUESTION})
    body = assert_error(limited, 429, "too many requests", "3 per minute")
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert body["error"]
    # Probes and the page are not rate-limited.
    assert client.get("/healthz").status_code == 200 and client.get("/").status_code == 200


def test_rate_limit_is_per_api_key(make_client):
    client = make_client(rate_limit_per_minute=2, api_keys="alpha,beta")
    alpha, beta = ({"Authorization": f"Bearer {k}"} for k in ("alpha", "beta"))
    assert [client.get("/documents", headers=alpha).status_code for _ in range(3)] == [200, 200, 429]
    assert [client.get("/documents", headers=beta).status_code for _ in range(3)] == [200, 200, 429]


# ---- request ids, errors, docs -----------------------------------------------------------------------

def test_every_response_has_a_request_id_and_the_log_line_carries_it(client, caplog):
    caplog.set_level(logging.INFO, logger="partnership.http")
    seen = set()
    for response in (client.get("/healthz"), client.get("/"), client.get("/nope"),
                     client.post("/ask", json={"question": ""})):
        rid = response.headers["x-request-id"]
        assert len(rid) == 32 and rid not in seen
        seen.add(rid)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for rid in seen:
        assert f"request_id={rid}" in logged
    assert "GET /nope status=404" in logged


def test_a_safe_incoming_request_id_is_kept_and_an_unsafe_one_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "proxy-abc.123"}).headers["x-request-id"] == "proxy-abc.123"
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\r\nwith spaces"}).headers["x-request-id"]
    assert replaced != "bad id" and len(replaced) == 32


def test_unexpected_errors_are_500_without_a_traceback(make_client, caplog):
    failing = APIRouter()

    @failing.get("/explode")
    def explode():
        raise RuntimeError("secret internal detail at /srv/app.py line 12")

    client = make_client(extra_routers=[failing])
    with caplog.at_level(logging.ERROR, logger="partnership.http"):
        response = client.get("/explode")
    body = assert_error(response, 500, "internal server error")
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert f"request_id={body['request_id']}" in caplog.text  # the server log has it, with the traceback


def test_unknown_path_and_method_are_json_errors(client):
    assert_error(client.get("/no-such-thing"), 404, "not found")
    assert_error(client.get("/ask"), 405, "method not allowed")


def test_openapi_documents_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    assert {"/ask", "/calculate", "/documents", "/feedback", "/healthz", "/readyz"} <= set(spec["paths"])
    ask = spec["paths"]["/ask"]["post"]
    assert {"401", "413", "422", "429", "503"} <= set(ask["responses"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_page_is_served_with_a_strict_content_security_policy(client):
    page = client.get("/")
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "innerHTML" not in client.get("/static/app.js").text
