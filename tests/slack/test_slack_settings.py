"""Slack's settings: its standard SLACK_* variable names, secrets kept secret, token kinds checked."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from assistant.config import Settings


@pytest.fixture(autouse=True)
def _no_slack_env(monkeypatch):
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)


def test_bot_token_is_read_from_SLACK_BOT_TOKEN_and_kept_secret(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", " xoxb-123-abc ")
    settings = Settings()
    assert settings.slack_bot_token.get_secret_value() == "xoxb-123-abc"
    assert "xoxb-123-abc" not in repr(settings) and "xoxb-123-abc" not in str(settings.model_dump())


def test_app_token_is_read_from_SLACK_APP_TOKEN(monkeypatch):
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0-1-x")
    assert Settings().slack_app_token.get_secret_value() == "xapp-1-A0-1-x"


def test_signing_secret_is_read_from_SLACK_SIGNING_SECRET(monkeypatch):
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5")
    settings = Settings()
    assert settings.slack_signing_secret.get_secret_value() == "8f742231b10e8888abcd99yyyzzz85a5"
    assert "8f742231" not in repr(settings)


def test_api_url_is_read_from_SLACK_API_URL_and_ends_with_a_slash(monkeypatch):
    assert Settings().slack_api_url == "https://slack.com/api/"
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    assert Settings().slack_api_url == "http://127.0.0.1:9/api/"
    monkeypatch.setenv("SLACK_API_URL", "  ")
    assert Settings().slack_api_url == "https://slack.com/api/"


def test_unset_or_blank_slack_values_are_none(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "  ")
    settings = Settings()
    assert settings.slack_bot_token is None and settings.slack_app_token is None
    assert settings.slack_signing_secret is None


def test_settings_accept_the_field_names_too():
    settings = Settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1", slack_api_url="http://h/api")
    assert settings.slack_bot_token.get_secret_value() == "xoxb-1"
    assert settings.slack_app_token.get_secret_value() == "xapp-1"
    assert settings.slack_api_url == "http://h/api/"


def test_an_app_token_of_the_wrong_kind_is_refused_with_its_message(monkeypatch):
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-wrong-kind")
    with pytest.raises(ValidationError, match="SLACK_APP_TOKEN must be an app-level token starting with 'xapp-'.") as info:
        Settings()
    assert "xoxb-wrong-kind" not in str(info.value)


def test_a_bot_token_of_the_wrong_kind_is_refused_with_its_message(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xapp-1-wrong-kind")
    with pytest.raises(ValidationError, match="SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-'.") as info:
        Settings()
    assert "xapp-1-wrong-kind" not in str(info.value)
