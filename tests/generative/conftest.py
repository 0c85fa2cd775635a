"""Generative-backend fixtures: a scripted chat server per test and assistants pointed at it over real HTTP."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant.config import Settings
from tests.generative.scripted_server import ScriptedChatServer


@pytest.fixture
def chat_server():
    server = ScriptedChatServer().start()
    yield server
    server.stop()


@pytest.fixture
def make_assistant(indexed_settings, embeddings, chat_server) -> Callable[..., object]:
    """make_assistant(**llm_settings) -> an Assistant over the session index whose model is the scripted server."""

    def make(**overrides):
        from assistant.factory import build_assistant

        fields = {"data_dir": indexed_settings.data_dir, "llm_base_url": chat_server.url, "llm_model": "scripted", **overrides}
        return build_assistant(Settings(**fields), embeddings=embeddings)

    return make
