"""The "Change inputs" button on a calculator answer: the real bolt app over signed HTTP, views.open recorded by the
mock Web API, view_submission answered with field errors or a recomputed answer in the same thread."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx

from conftest import CHANNEL, HEAD, TEAM_ID
from slack_mock import block_text, buttons

from integrations.slack.calc_inputs import CALLBACK, CHANGE_INPUTS

ASK_TIMEOUT = 120


def submit(slack, view: dict, values: dict) -> httpx.Response:
    """The person presses Recalculate: a view_submission of `view` (as views.open got it) with `values`."""
    state = {}
    for block, value in values.items():
        if block in ("pupils", "fe"):
            state[block] = {block: {"type": "plain_text_input", "value": value}}
        else:
            state[block] = {block: {"type": "static_select",
                                    "selected_option": None if value is None else {"value": value}}}
    payload = {"type": "view_submission", "team": {"id": TEAM_ID}, "user": {"id": HEAD}, "api_app_id": "A0APP0001",
               "token": "legacy", "trigger_id": "4.5.6",
               "view": {"id": "V0000001", "type": "modal", "callback_id": view["callback_id"],
                        "private_metadata": view["private_metadata"], "blocks": view["blocks"],
                        "state": {"values": state}}}
    return slack.post(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")


def initial(view: dict) -> dict:
    found = {}
    for block in view["blocks"]:
        element = block["element"]
        found[block["block_id"]] = element.get("initial_value") or (element.get("initial_option") or {}).get("value")
    return found


def open_modal(slack) -> tuple[dict, dict]:
    root, _ = slack.mention("What would a 420-pupil maintained primary pay in Ealing under scenario 1?")
    slack.mock.wait_for("chat.postMessage", timeout=ASK_TIMEOUT)
    posted = next(m for m in slack.mock.messages[CHANNEL] if m.get("thread_ts") == root["ts"] and m.get("bot_id"))
    assert "£5,411" in posted["text"]
    button = buttons(posted["blocks"])[CHANGE_INPUTS]
    assert button["text"]["text"] == "Change inputs"
    assert slack.click(button, message=posted).status_code == 200
    opened = slack.mock.wait_for("views.open", timeout=30)[0]
    assert opened["trigger_id"] == "1.2.3"
    return root, opened["view"]


def test_change_inputs_opens_a_prefilled_modal_and_posts_the_recomputed_answer_in_the_thread(slack):
    root, view = open_modal(slack)
    assert view["callback_id"] == CALLBACK
    assert initial(view) == {"partnership": "ealing", "phase": "primary", "pupils": "420", "fe": None,
                             "scenario": "1", "maintained": "maintained"}
    response = submit(slack, view, {"partnership": "ealing", "phase": "primary", "pupils": "420", "fe": "",
                                    "scenario": "2", "maintained": "maintained"})
    assert response.status_code == 200 and response.text == ""  # the modal closes
    recomputed = slack.mock.wait_for("chat.postMessage", count=2, timeout=30)[1]
    assert recomputed["channel"] == CHANNEL and recomputed["thread_ts"] == root["ts"]
    assert "£6,566" in recomputed["text"] and "£6,566" in block_text(recomputed["blocks"])
    assert "£5,411" not in recomputed["text"]
    assert CHANGE_INPUTS in buttons(recomputed["blocks"])  # it can be changed again
    # Form entry instead of pupils: 2 FE is 420 pupils, the same figure.
    submit(slack, view, {"partnership": "ealing", "phase": "primary", "pupils": "", "fe": "2", "scenario": "2",
                         "maintained": "academy"})
    academy = slack.mock.wait_for("chat.postMessage", count=3, timeout=30)[2]
    assert "academy" in academy["text"].lower() and academy["thread_ts"] == root["ts"]


def test_bad_input_in_the_modal_is_a_field_error_not_a_message(slack):
    _, view = open_modal(slack)
    before = len(slack.mock.of("chat.postMessage"))
    cases = [
        ({"pupils": "99999"}, "pupils", "99,999 pupils is not plausible"),
        ({"pupils": "lots"}, "pupils", "whole number"),
        ({"pupils": "420", "fe": "2"}, "fe", "not both"),
        ({"pupils": ""}, "pupils", "need"),  # a missing input: the calculator's question, on the field
        ({"partnership": "harrow", "phase": "primary", "scenario": "2"}, "scenario", "no scenarios"),
    ]
    for change, field, words in cases:
        values = {"partnership": "ealing", "phase": "primary", "pupils": "420", "fe": "", "scenario": "2",
                  "maintained": "maintained", **change}
        response = submit(slack, view, values)
        assert response.status_code == 200
        body = response.json()
        assert body["response_action"] == "errors", change
        assert list(body["errors"]) == [field] and words in body["errors"][field], (change, body)
    slack.mock.settle(1.0)
    assert len(slack.mock.of("chat.postMessage")) == before
