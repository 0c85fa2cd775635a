"""POST /ask/stream: in process for the contract, auth, limits and validation; over real HTTP against a real
`partnership serve` whose chat model is the scripted server streaming token by token, for deltas, the final
Answer, the figures guard and a client that disconnects mid-stream."""
from __future__ import annotations

import time

import httpx
import pytest

from assistant.generative import FIGURES_NOTICE
from tests.generative.scripted_server import ScriptedChatServer, contexts, first_sentence
from tests.http.sse import read_events
from tests.http.test_http_api import ANSWER_KEYS, BOARD_QUESTION, assert_error

QUESTION = "Is it all or nothing?"


def stream(client, body: dict, **kwargs) -> tuple[list[str], dict, object]:
    with client.stream("POST", "/ask/stream", json=body, **kwargs) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        events = list(read_events(response))
    *deltas, (last, final) = events
    assert {name for name, _ in deltas} <= {"delta"}
    return [d["text"] for _, d in deltas], {"event": last, **final}, response


# ---- in process: the contract, auth, limits, validation -----------------------------------------------

def test_an_extractive_answer_is_one_delta_then_the_answer_of_post_ask(client):
    deltas, final, _ = stream(client, {"question": BOARD_QUESTION})
    assert final.pop("event") == "answer" and set(final) == ANSWER_KEYS
    assert final == client.post("/ask", json={"question": BOARD_QUESTION}).json()
    assert deltas == [final["answer"]] and final["citations"]


def test_a_calculation_streams_with_its_calculation_as_data(client):
    deltas, final, _ = stream(client, {"question": "What would a 420-pupil maintained primary pay to Ealing under scenario 2?"})
    assert deltas == [final["answer"]] and final["calculation"]["display"]["subscription"]


@pytest.mark.parametrize("body, status, fragment", [
    ({"question": ""}, 422, "empty"),
    ({"question": "x" * 2001}, 422, "2,001 characters"),
    ({"question": BOARD_QUESTION, "partnership": "Narnia"}, 422, "narnia"),
    ({"question": BOARD_QUESTION, "colour": "red"}, 422, "colour"),
])
def test_a_bad_request_is_a_json_4xx_before_any_stream(client, body, status, fragment):
    response = client.post("/ask/stream", json=body)
    assert response.headers["content-type"].startswith("application/json")
    assert_error(response, status, fragment)


def test_the_stream_needs_the_api_key_and_is_rate_limited(make_client):
    client = make_client(api_keys="alpha", rate_limit_per_minute=2)
    assert_error(client.post("/ask/stream", json={"question": BOARD_QUESTION}), 401, "missing api key")
    assert_error(client.post("/ask/stream", json={"question": ""}), 401)  # auth before the body
    headers = {"Authorization": "Bearer alpha"}
    for _ in range(2):
        deltas, final, _ = stream(client, {"question": BOARD_QUESTION}, headers=headers)
        assert final["event"] == "answer"
    limited = client.post("/ask/stream", json={"question": BOARD_QUESTION}, headers=headers)
    assert_error(limited, 429, "too many requests")
    assert 1 <= int(limited.headers["retry-after"]) <= 60


def test_openapi_documents_the_event_stream(client):
    spec = client.get("/openapi.json").json()
    route = spec["paths"]["/ask/stream"]["post"]
    assert "text/event-stream" in route["responses"]["200"]["content"]
    assert "event: answer" in route["responses"]["200"]["description"]
    assert {"401", "413", "422", "429", "503"} <= set(route["responses"])


# ---- over real HTTP, a generative `partnership serve` -----------------------------------------------

@pytest.fixture(scope="module")
def model():
    server = ScriptedChatServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def generative_server(model, index_copy, start_server):
    return start_server(index_copy("stream"), PARTNERSHIP_LLM_BASE_URL=model.url, PARTNERSHIP_LLM_MODEL="scripted",
                        PARTNERSHIP_WARM_SENTENCES="false")


@pytest.fixture
def fresh(model):
    model.script.clear()
    model.requests.clear()
    model.streams.clear()
    model.token_delay = 0.0
    return model


def test_model_tokens_arrive_as_deltas_over_real_http(generative_server, fresh):
    fresh.compute(lambda body: f"{first_sentence(contexts(body)[2][1])} [2]")
    fresh.token_delay = 0.01
    with httpx.Client(base_url=generative_server.url, timeout=60) as http:
        deltas, final, response = stream(http, {"question": QUESTION})
    assert fresh.requests[-1]["stream"] is True
    source, text = contexts(fresh.requests[-1])[2]
    assert len(deltas) == len(first_sentence(text).split()) + 1 and "".join(deltas) == f"{first_sentence(text)} [2]"
    assert final["event"] == "answer" and final["answer"] == f"{first_sentence(text)} [1]"
    assert [c["source"] for c in final["citations"]] == [source] and response.headers["x-request-id"]


def test_a_figure_nothing_supports_is_replaced_in_the_answer_event(generative_server, fresh):
    invented = "Haringey schools pay £19 per pupil [1], so a 500-pupil school pays £9,000 [1]."
    fresh.say(invented)
    with httpx.Client(base_url=generative_server.url, timeout=60) as http:
        deltas, final, _ = stream(http, {"question": "How much do Haringey schools pay?"})
    assert "".join(deltas) == invented
    notice = FIGURES_NOTICE.format(source="is quoted directly from the documents")
    assert final["answer"].endswith(notice) and "£9,000" not in final["answer"]


def test_a_client_that_disconnects_mid_stream_stops_the_generation(generative_server, fresh):
    fresh.token_delay = 0.05
    fresh.say(" ".join(["word"] * 400) + " [1].")  # 20 s of tokens if nobody stops it
    with httpx.Client(base_url=generative_server.url, timeout=60) as http:
        with http.stream("POST", "/ask/stream", json={"question": QUESTION}) as response:
            events = read_events(response)
            assert [next(events)[0] for _ in range(3)] == ["delta"] * 3
        # leaving the block closes the connection mid-stream
    deadline = time.monotonic() + 10
    while not (fresh.streams and fresh.streams[0]["disconnected"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    record = fresh.streams[0]
    assert record["disconnected"] and not record["done"] and record["chunks"] < record["total"] // 2


def test_the_page_shows_streamed_text_before_the_final_answer(browser, generative_server, fresh):
    from selenium.webdriver.common.by import By

    from browser_support import page_errors, wait

    fresh.token_delay = 0.15  # about 3 s of tokens: time to see the text grow
    fresh.compute(lambda body: f"{first_sentence(contexts(body)[2][1])} [2]")
    browser.get(generative_server.url + "/")
    browser.find_element(By.ID, "question").send_keys(QUESTION)
    browser.find_element(By.ID, "ask-button").click()
    partial = wait(browser, 30).until(lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, ".message.streaming .answer-text") if e.text.strip()])
    assert not browser.find_elements(By.CSS_SELECTOR, ".message.assistant details.citation")  # not finished yet
    final = wait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant:not(.streaming) details.citation"))
    assert not browser.find_elements(By.CSS_SELECTOR, ".message.streaming")  # replaced by the final answer
    text = browser.find_element(By.CSS_SELECTOR, ".message.assistant .answer-text").text
    sentence = first_sentence(contexts(fresh.requests[-1])[2][1])
    assert sentence.startswith(partial[0].rstrip("▍ ").strip()) and text == f"{sentence} [1]"  # renumbered, checked
    assert len(final) == 1 and page_errors(browser) == []


def test_the_page_shows_a_refused_stream_as_an_error(browser, generative_server, fresh):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    from browser_support import wait

    browser.get(generative_server.url + "/")
    # maxlength stops typing at 2,000; a script (or another client) can still send more: the 422 is shown.
    browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, "question"), "x" * 2001)
    browser.find_element(By.ID, "ask-button").click()
    error = wait(browser, 30).until(EC.visibility_of_element_located((By.ID, "ask-error")))
    assert "2,001 characters" in error.text and not browser.find_elements(By.CSS_SELECTOR, ".message.assistant")
