"""Socket Mode wiring, the HTTP mount helpers, the `partnership slack` command and the manifest."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from typer.testing import CliRunner

from assistant.config import Settings
from integrations.slack.app import build_slack_app, web_client
from integrations.slack.commands import COMMAND
from integrations.slack.http_mount import slack_router, slack_router_from_settings
from integrations.slack.socket import SlackConfigError, socket_mode_handler, socket_tokens

MANIFEST = Path(__file__).resolve().parents[2] / "integrations" / "slack" / "manifest.yaml"


def test_socket_mode_handler_wraps_the_bolt_app(assistant, mock_slack):
    handler = socket_mode_handler(assistant, Settings(), bot_token="xoxb-socket", app_token="xapp-1-A0-123-abc")
    assert isinstance(handler, SocketModeHandler) and isinstance(handler.app, App)
    assert handler.app_token == "xapp-1-A0-123-abc"
    assert handler.client.web_client.base_url == mock_slack.url  # SLACK_API_URL reaches Socket Mode too
    assert [c.payload["_token"] for c in mock_slack.calls if c.method == "auth.test"] == ["xoxb-socket"]
    assert not handler.client.is_connected()  # constructed, never connected


def test_socket_tokens_are_required_and_checked(monkeypatch):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    with pytest.raises(SlackConfigError, match="SLACK_BOT_TOKEN and SLACK_APP_TOKEN are not set"):
        socket_tokens(Settings())
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(SlackConfigError, match="^SLACK_APP_TOKEN is not set"):
        socket_tokens(Settings())
    monkeypatch.setenv("SLACK_APP_TOKEN", " xapp-1 ")
    assert socket_tokens(Settings()) == ("xoxb-1", "xapp-1")


def test_cli_slack_with_the_wrong_kind_of_app_token_exits_2_naming_it(monkeypatch):
    from integrations.cli.app import app

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-wrong-kind")
    result = CliRunner().invoke(app, ["slack"])
    assert result.exit_code == 2
    assert "SLACK_APP_TOKEN must be an app-level token starting with 'xapp-'." in result.output
    assert "Traceback" not in result.output and "xoxb-wrong-kind" not in result.output


def test_cli_slack_without_tokens_exits_2_with_a_clear_message(monkeypatch):
    from integrations.cli.app import app

    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    result = CliRunner().invoke(app, ["slack"])
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN and SLACK_APP_TOKEN are not set" in result.output
    assert "Traceback" not in result.output


def test_web_client_uses_the_api_url_setting(monkeypatch):
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    assert web_client("xoxb-1", Settings()).base_url == "http://127.0.0.1:9/api/"


def test_router_only_when_token_and_signing_secret_are_set(monkeypatch):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    assert slack_router_from_settings(Settings()) is None
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    router = slack_router_from_settings(Settings())
    assert [route.path for route in router.routes] == ["/slack/events"]
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        slack_router(token="xoxb-1", signing_secret="")


def test_bolt_app_without_signing_secret_is_for_socket_mode_only(assistant, mock_slack):
    app = build_slack_app(assistant, Settings(), token="xoxb-x")
    names = [type(m).__name__ for m in app._middleware_list]
    assert "RequestVerification" not in names
    signed = build_slack_app(assistant, Settings(), token="xoxb-x", signing_secret="secret")
    assert "RequestVerification" in [type(m).__name__ for m in signed._middleware_list]


def test_manifest_declares_exactly_what_the_bot_uses():
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read", "channels:history", "groups:history", "im:history",
        "chat:write", "reactions:write", "commands", "assistant:write",
    }
    assert "user" not in manifest["oauth_config"]["scopes"]
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention", "message.channels", "message.groups", "message.im",
        "assistant_thread_started", "assistant_thread_context_changed",
    }
    from integrations.slack.assistant_thread import SUGGESTED_PROMPTS
    view = manifest["features"]["assistant_view"]
    assert view["assistant_description"]
    assert 3 <= len(view["suggested_prompts"]) <= 4
    assert all(p in SUGGESTED_PROMPTS for p in view["suggested_prompts"])  # the same prompts as the bot sets
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [COMMAND]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False


def test_socket_mode_end_to_end_over_a_local_websocket(assistant, mock_slack):
    """The real Socket Mode client connects (apps.connections.open → a local websocket), acknowledges
    envelopes, answers a mention, drops a retried event and answers /partnership help in the ack."""
    from slack_socket_mock import MockSocketMode

    socket_mode = MockSocketMode()
    mock_slack.socket_url = socket_mode.url
    handler = socket_mode_handler(assistant, Settings(), bot_token="xoxb-socket", app_token="xapp-1-A0-1-x")
    try:
        handler.connect()
        socket_mode.wait_connected()
        assert mock_slack.of("apps.connections.open")[0]["_token"] == "xapp-1-A0-1-x"

        message = mock_slack.add_message("C0GENERAL", "<@UBOT0001> How is the Ealing Learning Partnership funded?")
        event = {**message, "type": "app_mention", "channel": "C0GENERAL"}
        body = {"type": "event_callback", "team_id": "T0000001", "api_app_id": "A0APP0001", "event": event,
                "event_id": "Ev0SOCKET1", "event_time": int(time.time()),
                "authorizations": [{"team_id": "T0000001", "user_id": "UBOT0001", "is_bot": True}]}
        socket_mode.send({"envelope_id": "env-1", "type": "events_api", "payload": body,
                          "accepts_response_payload": False, "retry_attempt": 0, "retry_reason": ""})
        assert socket_mode.ack_for("env-1") == {"envelope_id": "env-1"}
        post = mock_slack.wait_for("chat.postMessage", timeout=120)[0]
        assert post["thread_ts"] == message["ts"] and post["_token"] == "xoxb-socket"

        socket_mode.send({"envelope_id": "env-2", "type": "events_api", "payload": body,
                          "accepts_response_payload": False, "retry_attempt": 1, "retry_reason": "timeout"})
        socket_mode.ack_for("env-2")

        command = {"command": "/partnership", "text": "help", "user_id": "UHEAD0001", "channel_id": "C0GENERAL",
                   "team_id": "T0000001", "response_url": mock_slack.response_url(), "trigger_id": "1.2.3"}
        socket_mode.send({"envelope_id": "env-3", "type": "slash_commands", "payload": command,
                          "accepts_response_payload": True})
        help_ack = socket_mode.ack_for("env-3")
        assert "/partnership ask" in help_ack["payload"]["text"]
        mock_slack.settle(1.0)
        assert len(mock_slack.of("chat.postMessage")) == 1  # the retry was not answered again
    finally:
        handler.close()
        socket_mode.close()


def test_bot_modules_import_no_http_or_cli_code():
    """Listeners and Socket Mode stand alone; only http_mount touches FastAPI."""
    import subprocess
    import sys

    code = ("import sys, integrations.slack.app, integrations.slack.socket; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'typer') "
            "or m.startswith(('integrations.http', 'integrations.cli'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


def test_cli_slack_with_a_rejected_token_exits_2_before_loading_the_model(mock_slack, monkeypatch):
    from integrations.cli.app import app

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    mock_slack.errors["auth.test"] = "invalid_auth"
    started = time.monotonic()
    result = CliRunner().invoke(app, ["slack"])
    assert result.exit_code == 2
    assert "Slack rejected SLACK_BOT_TOKEN: invalid_auth" in result.output
    assert time.monotonic() - started < 10


def test_cli_slack_runs_socket_mode_until_interrupted(indexed_settings, mock_slack):
    """`partnership slack` as a real process: connects, answers a mention, stops cleanly on Ctrl+C."""
    import os
    import signal
    import subprocess
    import sys

    from slack_socket_mock import MockSocketMode

    socket_mode = MockSocketMode()
    mock_slack.socket_url = socket_mode.url
    env = {**os.environ, "PARTNERSHIP_DATA_DIR": str(indexed_settings.data_dir), "SLACK_BOT_TOKEN": "xoxb-cli",
           "SLACK_APP_TOKEN": "xapp-1-cli", "SLACK_API_URL": mock_slack.url}
    process = subprocess.Popen([str(Path(sys.executable).parent / "partnership"), "slack"], env=env,
                               cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        socket_mode.wait_connected(timeout=240)
        message = mock_slack.add_message("D0HEAD001", "How is the Ealing Learning Partnership funded?")
        event = {**message, "channel": "D0HEAD001", "channel_type": "im"}
        socket_mode.send({"envelope_id": "cli-1", "type": "events_api", "accepts_response_payload": False,
                          "payload": {"type": "event_callback", "team_id": "T0000001", "event": event,
                                      "event_id": "Ev0CLI0001", "event_time": int(time.time())}})
        socket_mode.ack_for("cli-1")
        post = mock_slack.wait_for("chat.postMessage", timeout=120)[0]
        assert post["channel"] == "D0HEAD001" and "[1]" in post["text"]
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output
        assert "Traceback" not in output and "Slack bot stopped." in output
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        socket_mode.close()
