"""Which LangChain chat model answers: any OpenAI-compatible endpoint by default, other providers by URL scheme.

`PARTNERSHIP_LLM_BASE_URL` is normally an http(s) URL of an OpenAI-compatible `/v1` API (Ollama, vLLM,
llama.cpp server, OpenAI, Azure OpenAI's v1 endpoint). Other LangChain chat models plug in through
`register_provider`: a URL scheme maps to a builder. The one shipped alternative is `gguf:` — a local GGUF
file run in-process by llama-cpp-python (the optional `llama` extra), e.g.
`PARTNERSHIP_LLM_BASE_URL=gguf:///srv/models/qwen2.5-3b-instruct-q4_k_m.gguf`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from langchain_core.language_models import BaseChatModel

from assistant.config import Settings
from assistant.errors import AssistantError


class ChatModelConfigError(AssistantError, ValueError):
    """The LLM settings cannot produce a chat model (missing model name, missing optional package, bad path)."""


@dataclass(frozen=True)
class Provider:
    """Builds a chat model from Settings; `native_tools` says whether its tool calling is reliable enough
    to hand it the funding calculator (otherwise the deterministic calculator router answers)."""

    build: Callable[[Settings], BaseChatModel]
    native_tools: bool


def _openai_compatible(settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    if not settings.llm_model:
        raise ChatModelConfigError("PARTNERSHIP_LLM_MODEL is not set: name the model the endpoint should run.")
    return ChatOpenAI(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        # Local servers (Ollama, vLLM, llama.cpp) ignore the key, but the client insists on one.
        api_key=settings.llm_api_key or "not-needed",
        timeout=settings.llm_timeout,
        max_retries=0,  # a retry doubles the wait; the extractive fallback is the better answer to a failure
        temperature=0,
    )


def gguf_path(base_url: str) -> Path:
    parsed = urlparse(base_url)
    return Path(unquote(parsed.netloc + parsed.path)).expanduser()


def _llama_cpp(settings: Settings) -> BaseChatModel:
    path = gguf_path(settings.llm_base_url or "")
    if not path.is_file():
        raise ChatModelConfigError(f"GGUF model file not found: {path}")
    try:
        from langchain_community.chat_models import ChatLlamaCpp

        return ChatLlamaCpp(model_path=str(path), n_ctx=8192, temperature=0, max_tokens=700, verbose=False)
    except ImportError as exc:  # the optional extra (llama-cpp-python) is not installed
        raise ChatModelConfigError(
            "gguf: models need the optional packages: pip install 'partnership-assistant[llama]' langchain-community"
        ) from exc
    except ValueError as exc:  # llama.cpp could not load the file (not a GGUF model, wrong version)
        raise ChatModelConfigError(f"Could not load the GGUF model {path}: {exc}") from exc


# ChatLlamaCpp can only force one named tool, not let the model choose ("auto"): no native tools.
_PROVIDERS: dict[str, Provider] = {
    "http": Provider(_openai_compatible, native_tools=True),
    "https": Provider(_openai_compatible, native_tools=True),
    "gguf": Provider(_llama_cpp, native_tools=False),
}


def register_provider(scheme: str, provider: Provider) -> None:
    """Make `PARTNERSHIP_LLM_BASE_URL=<scheme>:...` build a different LangChain chat model."""
    _PROVIDERS[scheme.lower()] = provider


def provider_for(settings: Settings) -> Provider:
    url = settings.llm_base_url or ""
    scheme = urlparse(url).scheme.lower()
    if scheme not in _PROVIDERS:
        known = ", ".join(sorted(_PROVIDERS))
        raise ChatModelConfigError(f"PARTNERSHIP_LLM_BASE_URL={url!r}: unknown scheme {scheme!r} (known: {known}).")
    return _PROVIDERS[scheme]


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model named by the LLM settings (raises ChatModelConfigError when they are unusable)."""
    return provider_for(settings).build(settings)


def uses_native_tools(settings: Settings) -> bool:
    """True when the model should call the calculator itself: tools switched on and supported."""
    return settings.llm_tools and provider_for(settings).native_tools


def describe(settings: Settings) -> str:
    """One line naming the model and where it runs, for `partnership doctor` and logs."""
    if urlparse(settings.llm_base_url or "").scheme.lower() == "gguf":
        return f"local GGUF model {gguf_path(settings.llm_base_url or '')}"
    return f"model {settings.llm_model or '(unset)'} at {settings.llm_base_url}"
