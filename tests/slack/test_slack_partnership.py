"""`/partnership ask --partnership NAME <question>`: the name resolves as in the CLI and HTTP."""
from __future__ import annotations

from slack_mock import block_text

from integrations.slack.commands import ask_partnership

ASK_TIMEOUT = 120


def test_ask_partnership_flag_is_split_from_the_question():
    assert ask_partnership("--partnership ealing how are fees set?") == ("ealing", "how are fees set?")
    assert ask_partnership('--partnership="Ealing Learning Partnership" what?') == ("Ealing Learning Partnership", "what?")
    assert ask_partnership("how are fees set?") == (None, "how are fees set?")
    assert ask_partnership("--partnership ealing") == ("ealing", "")


def test_slash_ask_with_a_short_partnership_name_and_an_unknown_one(slack, assistant):
    documents = {d["source"]: d for d in assistant.documents()}
    slack.command("ask --partnership ealing How is the partnership funded?", response="short")
    short = slack.mock.wait_for("response_url", timeout=ASK_TIMEOUT)[0]
    assert "[1]" in block_text(short["blocks"])
    for source in (s for s in documents if s in block_text(short["blocks"])):
        assert "Ealing Learning Partnership" in str(documents[source]["partnership"])

    slack.command("ask --partnership Narnia What is the board made up of?", response="unknown")
    unknown = slack.mock.wait_for("response_url", count=2, timeout=ASK_TIMEOUT)[1]
    assert "Unknown partnership 'Narnia'" in unknown["text"]
    assert "Ealing Learning Partnership" in unknown["text"] and "Hillingdon Learning Partnership" in unknown["text"]

    slack.command("ask --partnership 'Education Partnership' What is the board made up of?", response="ambiguous")
    ambiguous = slack.mock.wait_for("response_url", count=3, timeout=ASK_TIMEOUT)[2]
    assert "is ambiguous" in ambiguous["text"] and "Haringey Education Partnership" in ambiguous["text"]


def test_slash_ask_with_only_a_partnership_asks_for_the_question(slack):
    missing = slack.command("ask --partnership ealing").json()["text"]
    assert "Please add a question" in missing
