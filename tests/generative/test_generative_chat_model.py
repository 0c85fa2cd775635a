"""Choosing the chat model: OpenAI-compatible by default, other LangChain chat models by URL scheme."""
from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_openai import ChatOpenAI

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.generative import (
    ChatModelConfigError,
    Provider,
    build_backend,
    build_chat_model,
    describe,
    register_provider,
    uses_native_tools,
)
from assistant.generative import chat_model


def test_openai_compatible_model_gets_the_settings():
    settings = Settings(llm_base_url="http://127.0.0.1:11434/v1", llm_model="llama3.1:8b", llm_timeout=7)
    model = build_chat_model(settings)
    assert isinstance(model, ChatOpenAI)
    assert (model.openai_api_base, model.model_name, model.request_timeout, model.max_retries) == ("http://127.0.0.1:11434/v1", "llama3.1:8b", 7, 0)
    assert model.openai_api_key.get_secret_value() == "not-needed"
    assert build_chat_model(settings.model_copy(update={"llm_api_key": "sk-test"})).openai_api_key.get_secret_value() == "sk-test"
    assert describe(settings) == "model llama3.1:8b at http://127.0.0.1:11434/v1"
    assert uses_native_tools(settings) and not uses_native_tools(settings.model_copy(update={"llm_tools": False}))


def test_tools_flag_reads_the_environment(monkeypatch):
    monkeypatch.setenv("PARTNERSHIP_LLM_TOOLS", "false")
    assert Settings().llm_tools is False


@pytest.mark.parametrize(
    "url,model,message",
    [
        ("ftp://models.example/v1", "m", "unknown scheme 'ftp'"),
        ("http://127.0.0.1:8080/v1", None, "PARTNERSHIP_LLM_MODEL is not set"),
        ("gguf:///no/such/model.gguf", None, "GGUF model file not found: /no/such/model.gguf"),
    ],
)
def test_unusable_settings_raise_a_clear_error(url, model, message):
    with pytest.raises(ChatModelConfigError, match=message) as info:
        build_chat_model(Settings(llm_base_url=url, llm_model=model))
    assert isinstance(info.value, AssistantError), "the CLI turns it into a one-line error, exit 2"


def test_gguf_without_llama_cpp_names_the_extra(tmp_path):
    model_file = tmp_path / "model.gguf"
    model_file.write_bytes(b"GGUF")
    settings = Settings(llm_base_url=f"gguf://{model_file}")
    assert describe(settings) == f"local GGUF model {model_file}"
    assert not uses_native_tools(settings), "ChatLlamaCpp cannot let the model choose a tool"
    with pytest.raises(ChatModelConfigError, match="gguf|GGUF"):
        build_chat_model(settings)


def test_other_chat_models_plug_in_by_scheme(monkeypatch, chat_server, embeddings):
    """A provider registered for a new scheme builds the model; its tool support decides the routing."""
    from assistant.backends import Turn

    monkeypatch.setattr(chat_model, "_PROVIDERS", dict(chat_model._PROVIDERS))
    register_provider(
        "lab",
        Provider(lambda s: ChatOpenAI(base_url=chat_server.url, model="lab-model", api_key="k", max_retries=0), native_tools=False),
    )
    backend = build_backend(Settings(llm_base_url="lab://gpu-box"))
    assert backend.tools == {}
    chat_server.say("Yes [1].")
    hits = [Document(page_content="Yes. Schools need to decide.", metadata={"source": "qa.txt"})]
    answer = backend.answer(Turn(question="Is it all or nothing?", standalone="Is it all or nothing?", hits=hits))
    assert answer.answer == "Yes [1]." and answer.citations[0].source == "qa.txt"
    assert chat_server.requests[0]["model"] == "lab-model" and "tools" not in chat_server.requests[0]


def test_the_cooldown_is_read_from_PARTNERSHIP_LLM_COOLDOWN_SECONDS(monkeypatch, chat_server):
    assert Settings().llm_cooldown_seconds == 30.0
    monkeypatch.setenv("PARTNERSHIP_LLM_COOLDOWN_SECONDS", "2.5")
    settings = Settings(llm_base_url=chat_server.url, llm_model="scripted")
    assert settings.llm_cooldown_seconds == 2.5
    assert build_backend(settings).cooldown == 2.5
