"""Slack's native feedback control on answers, through the real bolt app over signed HTTP: 👍 is stored; 👎 is
stored with what reproduces the answer and opens "What was wrong?" (views.open recorded by the mock Web API);
its submission is attached to the same row. Buttons of answers posted before the control still count."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx

from conftest import CHANNEL, HEAD, TEAM_ID
from slack_mock import BOT_ID, THUMBS_DOWN, THUMBS_UP, buttons

from integrations.slack.blocks import FEEDBACK, FEEDBACK_BLOCK, FEEDBACK_DOWN
from integrations.slack.feedback_modal import CALLBACK, COMMENT, EXPECTED

ASK_TIMEOUT = 120


def submit(slack, view: dict, comment: str | None, expected: str | None) -> httpx.Response:
    """The person presses Send on the modal as views.open got it."""
    state = {COMMENT: {COMMENT: {"type": "plain_text_input", "value": comment}},
             EXPECTED: {EXPECTED: {"type": "static_select",
                                   "selected_option": {"value": expected} if expected else None}}}
    payload = {"type": "view_submission", "team": {"id": TEAM_ID}, "user": {"id": HEAD}, "api_app_id": "A0APP0001",
               "token": "legacy", "trigger_id": "4.5.6",
               "view": {"id": "V0000002", "type": "modal", "callback_id": view["callback_id"],
                        "private_metadata": view["private_metadata"], "blocks": view["blocks"],
                        "state": {"values": state}}}
    return slack.post(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")


def answered_follow_up(slack) -> tuple[dict, dict]:
    """A calculation then a follow-up in its thread: (the follow-up's post, the message as Slack stores it)."""
    root, _ = slack.mention("What would a 420-pupil maintained primary pay in Ealing under scenario 1?")
    slack.mock.wait_for("chat.postMessage", timeout=ASK_TIMEOUT)
    slack.message("and under scenario 2?", thread_ts=root["ts"])
    post = slack.mock.wait_for("chat.postMessage", count=2, timeout=ASK_TIMEOUT)[1]
    posted = [m for m in slack.mock.messages[CHANNEL] if m.get("bot_id") == BOT_ID][-1]
    return post, posted


def test_answers_carry_the_native_feedback_control(slack):
    post, _ = answered_follow_up(slack)
    control = next(b for b in post["blocks"] if b.get("block_id") == FEEDBACK_BLOCK)
    assert control["type"] == "context_actions"
    assert [e["type"] for e in control["elements"]] == ["feedback_buttons"]
    assert {THUMBS_UP, THUMBS_DOWN} <= set(buttons(post["blocks"]))


def test_thumbs_down_stores_what_reproduces_the_answer_and_the_modal_adds_what_was_wrong(slack):
    post, posted = answered_follow_up(slack)
    assert slack.click(buttons(post["blocks"])[THUMBS_DOWN], message=posted).status_code == 200
    opened = slack.mock.wait_for("views.open", timeout=30)[0]
    view = opened["view"]
    assert opened["trigger_id"] == "1.2.3" and view["callback_id"] == CALLBACK
    assert view["title"]["text"] == "What was wrong?"
    documents = [o["value"] for b in view["blocks"] if b["block_id"] == EXPECTED for o in b["element"]["options"]]
    assert "ealing-elp-prospectus-2018-19.txt" in documents

    [row] = slack.feedback_rows()
    assert row["rating"] == "down" and row["question"] == "and under scenario 2?"
    assert [t["role"] for t in row["history"]] == ["user", "assistant"]  # the thread it was a follow-up in
    assert "scenario 1" in row["history"][0]["content"]
    assert row["backend"] == "calculator" and row["citations"] and row["index_marker"]["chunks"] > 0
    assert row["comment"] is None

    response = submit(slack, view, "  It should show the per-pupil rate too  ", "ealing-elp-prospectus-2018-19.txt")
    assert response.status_code == 200 and response.text == ""  # the modal closes
    [row] = slack.feedback_rows()
    assert row["comment"] == "It should show the per-pupil rate too"
    assert row["expected_source"] == "ealing-elp-prospectus-2018-19.txt"


def test_thumbs_up_is_stored_without_a_modal_and_a_blank_modal_changes_nothing(slack):
    post, posted = answered_follow_up(slack)
    slack.click(buttons(post["blocks"])[THUMBS_UP], message=posted)
    slack.mock.wait_for("chat.update", timeout=30)
    assert not slack.mock.of("views.open")
    [row] = slack.feedback_rows()
    assert row["rating"] == "up"
    view = {"callback_id": CALLBACK, "private_metadata": json.dumps({"row": row["id"]}), "blocks": []}
    assert submit(slack, view, "   ", None).status_code == 200
    assert slack.feedback_rows()[0]["comment"] is None


def test_a_forged_rating_is_ignored_and_a_button_from_before_the_control_still_counts(slack):
    post, posted = answered_follow_up(slack)
    forged = {**buttons(post["blocks"])[THUMBS_UP]}
    forged["value"] = json.dumps({**json.loads(forged["value"]), "r": "meh"})
    assert slack.click(forged, message=posted).status_code == 200
    assert slack.feedback_rows() == []
    legacy = {"action_id": FEEDBACK_DOWN, "block_id": FEEDBACK_BLOCK, "type": "button",
              "text": {"type": "plain_text", "text": "👎 Not helpful"}, "value": forged["value"]}
    assert slack.click(legacy, message=posted).status_code == 200
    slack.mock.wait_for("chat.update", timeout=30)
    assert [r["rating"] for r in slack.feedback_rows()] == ["down"]
    assert FEEDBACK == forged["action_id"]


def test_forged_modal_submissions_change_nothing():
    from integrations.slack.feedback_modal import submitted

    for view in (None, "x", {"private_metadata": 7}, {"private_metadata": "[1]"}, {"private_metadata": '{"row": true}'},
                 {"private_metadata": '{"row": "1"}', "state": {"values": {COMMENT: ["x"]}}},
                 {"state": {"values": {EXPECTED: {EXPECTED: {"selected_option": "doc"}}}}}):
        row, comment, expected = submitted(view)
        assert row is None and comment is None and expected is None, view
    assert submitted({"private_metadata": '{"row": 3}', "state": {"values": {
        COMMENT: {COMMENT: {"value": " wrong row "}}, EXPECTED: {EXPECTED: {"selected_option": {"value": "a.txt"}}}}}}
    ) == (3, "wrong row", "a.txt")
