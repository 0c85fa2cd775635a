"""The real bolt app behind the real FastAPI `/slack/events` route, driven by signed Slack requests over
HTTP, answering with the real Assistant over the ingested corpus; Slack itself is the mock Web API."""
from __future__ import annotations

import json
import time

from conftest import BOT_TOKEN, CHANNEL, HEAD
from slack_mock import BOT_ID, BOT_USER_ID, THUMBS_DOWN, THUMBS_UP, block_text, buttons

from integrations.slack.blocks import SHARE, escape

ASK_TIMEOUT = 120  # the first answers of a session build the lexical index on a shared 2-core machine


def only_sections_and_context(blocks: list[dict]) -> list[str]:
    return [b["type"] for b in blocks if b["type"] in ("section", "context")]


def test_mention_is_answered_in_a_thread_with_sources_and_working_reaction(slack):
    started = time.monotonic()
    message, response = slack.mention("How is the Ealing Learning Partnership funded?")
    assert response.status_code == 200
    assert time.monotonic() - started < 3  # acknowledged before the answer is worked out

    post = slack.mock.wait_for("chat.postMessage", timeout=ASK_TIMEOUT)[0]
    slack.mock.wait_for("reactions.remove", timeout=30)
    assert post["channel"] == CHANNEL and post["thread_ts"] == message["ts"]
    assert post["_token"] == BOT_TOKEN
    text = block_text(post["blocks"])
    assert "subscription" in text.lower() and "[1]" in text
    sources = next(b for b in post["blocks"] if b["type"] == "context")["elements"][0]["text"]
    assert sources.startswith("*Sources*\n[1] ") and "Ealing" in sources
    assert set(buttons(post["blocks"])) == {THUMBS_UP, THUMBS_DOWN}
    assert post["text"] and "Sources: [1]" in post["text"]  # plain-text fallback

    added, removed = slack.mock.of("reactions.add"), slack.mock.of("reactions.remove")
    assert [(r["name"], r["timestamp"]) for r in added] == [("hourglass_flowing_sand", message["ts"])]
    assert [(r["name"], r["timestamp"]) for r in removed] == [("hourglass_flowing_sand", message["ts"])]
    methods = [c.method for c in slack.mock.calls]
    assert methods.index("reactions.add") < methods.index("chat.postMessage") < methods.index("reactions.remove")


def test_direct_message_is_answered_without_a_mention(slack):
    message, response = slack.message("What does the Hillingdon Learning Partnership cost to join?",
                                      channel="D0HEAD001", channel_type="im")
    assert response.status_code == 200
    post = slack.mock.wait_for("chat.postMessage", timeout=ASK_TIMEOUT)[0]
    assert post["channel"] == "D0HEAD001" and post["thread_ts"] == message["ts"]
    assert "Hillingdon" in block_text(post["blocks"])


def test_thread_follow_up_uses_the_thread_as_history(slack):
    root, _ = slack.mention("What would a 420-pupil maintained primary pay in Ealing under scenario 1?")
    first = slack.mock.wait_for("chat.postMessage", timeout=ASK_TIMEOUT)[0]
    assert "£5,411" in first["text"]  # scenario 1 subscription for 420 pupils
    assert "Working" in block_text(first["blocks"])

    follow_up, response = slack.message("and under scenario 2?", thread_ts=root["ts"])  # no mention
    assert response.status_code == 200
    second = slack.mock.wait_for("chat.postMessage", count=2, timeout=ASK_TIMEOUT)[1]
    assert second["thread_ts"] == root["ts"]
    assert "£6,566" in second["text"] and "£6,566" in block_text(second["blocks"])
    assert "£5,411" not in second["text"]
    replies = slack.mock.of("conversations.replies")
    assert replies and replies[-1]["ts"] == root["ts"] and replies[-1]["channel"] == CHANNEL


def test_threads_the_bot_is_not_in_and_plain_channel_messages_are_ignored(slack):
    root = slack.mock.add_message(CHANNEL, "Staff meeting moved to Thursday")
    _, first = slack.message("Can someone confirm the time?", thread_ts=root["ts"])
    _, second = slack.message("How is the Ealing subscription calculated?")  # no mention, no thread
    assert first.status_code == second.status_code == 200
    slack.mock.settle(1.5)
    assert slack.mock.of("chat.postMessage") == []
    assert slack.mock.of("reactions.add") == []


def test_own_and_other_bots_messages_edits_deletions_and_joins_are_ignored(slack):
    root, _ = slack.mention("How is the Ealing Learning Partnership funded?")
    slack.mock.wait_for("reactions.remove", timeout=ASK_TIMEOUT)  # the answer is complete
    before = len(slack.mock.calls)
    in_thread = {"thread_ts": root["ts"]}
    slack.message("Our own answer", user=BOT_USER_ID, bot_id=BOT_ID, **in_thread)
    slack.message("Another bot says hi", user="UOTHERBOT", bot_id="BOTHER001", subtype="bot_message", **in_thread)
    slack.message("edited", subtype="message_changed", **in_thread)
    slack.message("", subtype="message_deleted", **in_thread)
    slack.message("<@UHEAD0002> has joined the channel", subtype="channel_join", user="UHEAD0002")
    slack.message("I'm a bot DM", channel="D0HEAD001", channel_type="im", bot_id="BOTHER001", user="UOTHERBOT")
    slack.mock.settle(1.5)
    assert [c.method for c in slack.mock.calls[before:]] == []  # not even a history lookup


def test_slack_retry_of_the_same_event_is_not_answered_twice(slack):
    message = slack.mock.add_message(CHANNEL, f"<@{BOT_USER_ID}> How is the Ealing Learning Partnership funded?")
    event = {**message, "type": "app_mention", "channel": CHANNEL}
    assert slack.event(event, event_id="Ev0RETRY01").status_code == 200
    retry = slack.event(event, event_id="Ev0RETRY01",
                        extra_headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200
    slack.mock.wait_for("chat.postMessage", timeout=ASK_TIMEOUT)
    slack.event(event, event_id="Ev0RETRY01", extra_headers={"X-Slack-Retry-Num": "2"})
    slack.mock.settle(2.0)
    assert len(slack.mock.of("chat.postMessage")) == 1
    assert len(slack.mock.of("reactions.add")) == 1


def test_bad_signature_and_stale_timestamp_get_401_and_no_action(slack):
    message = slack.mock.add_message(CHANNEL, f"<@{BOT_USER_ID}> hello")
    event = {**message, "type": "app_mention", "channel": CHANNEL}
    forged = slack.event(event, secret="not-the-signing-secret")
    stale = slack.event(event, timestamp=int(time.time()) - 6 * 60)  # correctly signed, but replayed
    body = b'{"type": "event_callback"}'
    unsigned = slack.post(body, "application/json", extra_headers={"X-Slack-Signature": ""})
    assert (forged.status_code, stale.status_code, unsigned.status_code) == (401, 401, 401)
    slack.mock.settle(1.0)
    assert [c.method for c in slack.mock.calls] == []


def test_url_verification_challenge(slack):
    body = json.dumps({"token": "legacy", "challenge": "c-123", "type": "url_verification"}).encode()
    response = slack.post(body, "application/json")
    assert response.status_code == 200 and response.json() == {"challenge": "c-123"}


def test_rate_limit_gives_a_polite_message(slack_endpoint, assistant):
    slack = slack_endpoint(assistant, slack_rate_limit_per_minute=2)
    for question in ("How is the Ealing Learning Partnership funded?", "What does the Hillingdon partnership cost?"):
        slack.message(question, channel="D0HEAD001", channel_type="im")
    slack.mock.wait_for("chat.postMessage", count=2, timeout=ASK_TIMEOUT)
    third, _ = slack.message("And Harrow?", channel="D0HEAD001", channel_type="im")
    notice = slack.mock.wait_for("chat.postEphemeral", timeout=30)[0]
    assert notice["user"] == HEAD and notice["channel"] == "D0HEAD001" and notice["thread_ts"] == third["ts"]
    assert "2 questions in the last minute" in notice["text"] and "Please try again in" in notice["text"]
    # Another person is not affected by the first one's limit.
    slack.message("How is the Ealing Learning Partnership funded?", channel="D0OTHER01", channel_type="im",
                  user="UHEAD0002")
    slack.mock.wait_for("chat.postMessage", count=3, timeout=ASK_TIMEOUT)
    slack.mock.settle(1.0)
    assert len(slack.mock.of("chat.postMessage")) == 3


def test_slash_help_and_usage_are_immediate_ephemeral_replies(slack):
    help_reply = slack.command("help")
    assert help_reply.status_code == 200
    assert help_reply.json()["response_type"] == "ephemeral"
    assert "/partnership ask" in help_reply.json()["text"] and "calc" in help_reply.json()["text"]
    assert "/partnership ask" in slack.command("").json()["text"]
    unknown = slack.command("frobnicate <!channel>").json()["text"]
    assert "I don't know `frobnicate`" in unknown
    missing = slack.command("ask").json()["text"]
    assert "Please add a question" in missing
    slack.mock.settle(0.5)
    assert slack.mock.of("response_url") == [] and slack.mock.of("chat.postMessage") == []


def test_slash_ask_is_ephemeral_and_share_posts_it_in_the_channel(slack):
    question = "How is the Ealing Learning Partnership funded?"
    response = slack.command(f"ask {question}")
    assert response.status_code == 200 and not response.content  # bare ack; the answer follows
    private = slack.mock.wait_for("response_url", timeout=ASK_TIMEOUT)[0]
    assert private["response_type"] == "ephemeral"
    assert "[1]" in block_text(private["blocks"]) and "*Sources*" in block_text(private["blocks"])
    found = buttons(private["blocks"])
    assert set(found) == {SHARE, THUMBS_UP, THUMBS_DOWN}
    assert slack.mock.of("chat.postMessage") == []  # nobody else has seen it

    assert slack.click(found[SHARE], response="share").status_code == 200
    public = slack.mock.wait_for("chat.postMessage", timeout=30)[0]
    assert public["channel"] == CHANNEL and "thread_ts" not in public
    shared = block_text(public["blocks"])
    assert f"<@{HEAD}> asked: {question}" in shared
    assert block_text(private["blocks"]) in shared  # the same answer, now public
    assert set(buttons(public["blocks"])) == {THUMBS_UP, THUMBS_DOWN}  # no Share button in public
    deleted = slack.mock.wait_for("response_url", count=2, timeout=30)[1]
    assert deleted.get("delete_original") is True


def test_slash_calc_free_text_and_flags(slack):
    slack.command("calc 420-pupil maintained primary in Ealing, scenario 2", response="free")
    free = slack.mock.wait_for("response_url", timeout=ASK_TIMEOUT)[0]
    assert "£6,566" in free["text"] and "```" in block_text(free["blocks"])
    slack.command("calc --partnership ealing --phase primary --pupils 420 --scenario 2 --maintained", response="flags")
    flags = slack.mock.wait_for("response_url", count=2, timeout=ASK_TIMEOUT)[1]
    assert "£6,566" in flags["text"] and "Where the rates come from" in block_text(flags["blocks"])
    assert SHARE in buttons(flags["blocks"])
    refused = slack.command("calc --partnership ealing --pupils lots --phase primary")
    assert refused.status_code == 200 and "pupils: Input should be a valid integer" in refused.json()["text"]


def test_feedback_on_a_public_answer_is_stored_and_buttons_replaced(slack):
    question = "How is the Ealing Learning Partnership funded?"
    slack.mention(question)
    post = slack.mock.wait_for("chat.postMessage", timeout=ASK_TIMEOUT)[0]
    posted = next(m for m in slack.mock.messages[CHANNEL] if m.get("bot_id") == BOT_ID)
    assert slack.click(buttons(post["blocks"])[THUMBS_DOWN], user="UGOV00001", message=posted).status_code == 200
    update = slack.mock.wait_for("chat.update", timeout=30)[0]
    assert update["channel"] == CHANNEL and update["ts"] == posted["ts"]
    assert buttons(update["blocks"]) == {}
    assert "👎 Thanks for the feedback, <@UGOV00001>!" in block_text(update["blocks"])
    assert only_sections_and_context(update["blocks"])[:-1] == only_sections_and_context(post["blocks"])

    rows = slack.feedback_rows()
    assert len(rows) == 1
    row = rows[0]
    assert (row["source"], row["user_id"], row["channel"], row["rating"]) == ("slack", "UGOV00001", CHANNEL, "down")
    assert row["question"] == question
    assert row["answer"] and post["text"].startswith(escape(row["answer"])[:200])  # the answer that was shown
    assert row["created_at"]


def test_feedback_on_an_ephemeral_answer_keeps_share_and_thanks(slack):
    slack.command("ask How is the Ealing Learning Partnership funded?")
    private = slack.mock.wait_for("response_url", timeout=ASK_TIMEOUT)[0]
    slack.click(buttons(private["blocks"])[THUMBS_UP], response="thumbs")
    replaced = slack.mock.wait_for("response_url", count=2, timeout=30)[1]
    assert replaced["replace_original"] is True
    assert set(buttons(replaced["blocks"])) == {SHARE}
    assert "👍 Thanks for the feedback" in block_text(replaced["blocks"])
    rows = slack.feedback_rows()
    assert [(r["rating"], r["source"], r["user_id"]) for r in rows] == [("up", "slack", HEAD)]


def test_share_of_a_forgotten_answer_re_asks_and_falls_back_to_response_url_outside_channel(slack):
    question = "How is the Ealing Learning Partnership funded?"
    button = {"action_id": SHARE, "block_id": "share", "text": {"type": "plain_text", "text": "Share in channel"},
              "value": json.dumps({"ref": "forgotten-after-restart", "q": question})}
    slack.mock.errors["chat.postMessage"] = "not_in_channel"  # the bot was never invited here
    slack.click(button, response="share")
    posts = slack.mock.wait_for("response_url", count=2, timeout=ASK_TIMEOUT)
    public, deleted = posts
    assert public["response_type"] == "in_channel" and f"<@{HEAD}> asked: {question}" in block_text(public["blocks"])
    assert "[1]" in block_text(public["blocks"])
    assert deleted.get("delete_original") is True


def test_user_errors_become_clear_messages(slack):
    slack.message("x" * 2001, channel="D0HEAD001", channel_type="im")
    too_long = slack.mock.wait_for("chat.postMessage", timeout=ASK_TIMEOUT)[0]
    assert too_long["text"] == "The question is 2,001 characters long; the limit is 2,000."
    empty, _ = slack.mention("")
    help_post = slack.mock.wait_for("chat.postMessage", count=2, timeout=30)[1]
    assert help_post["thread_ts"] == empty["ts"] and "/partnership ask" in help_post["text"]


def test_empty_index_is_explained_not_crashed(slack_endpoint, embeddings):
    from assistant.config import Settings
    from assistant.factory import build_assistant

    slack = slack_endpoint(build_assistant(Settings(), embeddings=embeddings))  # nothing ingested
    slack.mention("How is the Ealing Learning Partnership funded?")
    post = slack.mock.wait_for("chat.postMessage", timeout=ASK_TIMEOUT)[0]
    assert "haven't been indexed yet" in post["text"] and "partnership ingest" in post["text"]
    assert buttons(post["blocks"]) == {}  # nothing to rate


def test_declined_answer_lists_closest_sources_and_api_keys_do_not_block_slack(slack_endpoint, assistant):
    slack = slack_endpoint(assistant, api_keys="http-key-1")  # Slack authenticates by signature, not bearer key
    slack.mention("What does the Manchester Schools Alliance charge for catering?")
    post = slack.mock.wait_for("chat.postMessage", timeout=ASK_TIMEOUT)[0]
    text = block_text(post["blocks"])
    assert "I can't answer that from the partnership documents" in text
    assert "*Closest sources*\n[1] " in text


def test_a_mention_of_slacks_full_length_is_told_it_is_too_long_not_refused_413(slack):
    # Slack allows 40,000 characters; as JSON (non-ASCII escaped, the text often twice) that is well over
    # the API's 64 KB body limit, which the events route must not apply.
    message, response = slack.mention("é" * 39_000)
    assert response.status_code == 200, response.text
    reply = slack.mock.wait_for("chat.postMessage", timeout=ASK_TIMEOUT)[0]
    assert reply["thread_ts"] == message["ts"] and "characters long; the limit is 2,000" in reply["text"]
