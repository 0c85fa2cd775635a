"""The optional LLM-judged faithfulness score, against a chat-completions server on 127.0.0.1 whose replies
are computed from the request (the network edge is the only thing replaced)."""
from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from assistant.config import Settings
from eval.faithfulness import build_judge, claims, parse_supported
from eval.metrics import normalise
from eval.runner import evaluate
from eval.schema import load_dataset
from integrations.cli.app import app
from tests.generative.scripted_server import ScriptedChatServer


@pytest.fixture
def judge_server():
    server = ScriptedChatServer().start()
    yield server
    server.stop()


def substring_judge(body: dict) -> str:
    """A literal-minded judge: a claim is supported when its text occurs in one of the sources."""
    prompt = body["messages"][-1]["content"]
    sources = normalise(" ".join(re.findall(r"<source n=\"\d+\">\n(.*?)\n</source>", prompt, re.DOTALL)))
    numbered = re.findall(r"^(\d+)\. (.*)$", prompt.split("Claims:")[1], re.MULTILINE)
    return json.dumps({"supported": [int(n) for n, claim in numbered if normalise(claim).rstrip(".") in sources]})


def test_claims_drop_markers_and_fragments():
    assert claims("Yes. [1] Schools need to decide if they subscribe to the values [1]. Ok [2]") == [
        "Schools need to decide if they subscribe to the values."
    ]
    assert claims("") == []


@pytest.mark.parametrize("reply, expected", [
    ('{"supported": [1, 3]}', {1, 3}),
    ('Sure! ```json\n{"supported": [2, 9, "x"]}\n```', {2}),
    ('{"supported": []}', set()),
    ("claims 1 and 2 are supported", None),
    ('{"verdict": "ok"}', None),
    ("{not json}", None),
])
def test_parse_supported(reply, expected):
    assert parse_supported(reply, 3) == expected


def test_judge_scores_the_share_of_supported_claims_over_http(judge_server):
    judge = build_judge(Settings(llm_base_url=judge_server.url, llm_model="judge"))
    judge_server.compute(substring_judge)
    score = judge.score("The council has agreed to contribute £571k [1]. It also runs a zoo in Acton [1].",
                        ["The council has agreed to contribute £571k towards Ealing Learning Partnership."])
    assert score == 0.5
    prompt = judge_server.requests[0]["messages"][-1]["content"]
    assert "1. The council has agreed to contribute £571k." in prompt and "2. It also runs a zoo in Acton." in prompt

    judge_server.say("I think they are mostly fine.")
    assert judge.score("The council contributes £571k [1].", ["£571k"]) is None, "an unparsable verdict is no score"
    judge_server.fail(500)
    assert judge.score("The council contributes £571k [1].", ["£571k"]) is None, "a failing judge is no score"
    assert judge.score("Ok.", ["anything"]) is None and judge.score("A long enough claim here.", []) is None
    assert len(judge_server.requests) == 3, "nothing to judge means no request"


def test_runner_adds_faithfulness_for_grounded_answers(assistant, judge_server):
    items = [i for i in load_dataset() if i.id in ("ealing-qa-02-verbatim", "fact-bdsip-ownership", "decline-capital")]
    judge = build_judge(Settings(llm_base_url=judge_server.url, llm_model="judge"))
    for _ in items:
        judge_server.compute(substring_judge)
    run = evaluate(assistant, items, judge=judge)
    for result in run.results:
        if result.grounded and result.citations:
            assert result.scores["faithfulness"] is not None and 0.0 <= result.scores["faithfulness"] <= 1.0
        else:
            assert result.scores["faithfulness"] is None
    judged = [r.scores["faithfulness"] for r in run.results if r.scores["faithfulness"] is not None]
    assert len(judge_server.requests) == len(judged)
    expected = sum(judged) / len(judged) if judged else None
    assert run.summary["overall"]["faithfulness"] == pytest.approx(expected)


def test_cli_refuses_faithfulness_without_a_chat_model():
    result = CliRunner().invoke(app, ["eval", "--faithfulness"])
    assert result.exit_code == 2
    assert "needs a chat model" in result.output and "PARTNERSHIP_LLM_BASE_URL" in result.output
