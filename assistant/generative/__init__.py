"""The generative answer backend (issue 7): a chat model answers from the retrieved chunks, calls the funding
calculator as a native tool, and falls back to the extractive answer whenever it is unavailable."""
from __future__ import annotations

from assistant.config import Settings
from assistant.generative.backend import NOTICE, Fallback, GenerativeBackend, Router, ping
from assistant.generative.chat_model import (
    ChatModelConfigError,
    Provider,
    build_chat_model,
    describe,
    register_provider,
    uses_native_tools,
)

__all__ = [
    "NOTICE",
    "ChatModelConfigError",
    "GenerativeBackend",
    "Provider",
    "build_backend",
    "build_chat_model",
    "describe",
    "ping",
    "register_provider",
    "uses_native_tools",
]


def build_backend(settings: Settings, fallback: Fallback, router: Router | None = None) -> GenerativeBackend:
    """The backend configured by the PARTNERSHIP_LLM_* settings (ChatModelConfigError if they are unusable).

    Args:
        settings: the PARTNERSHIP_LLM_* fields say which model, where, and whether it gets the calculator tool.
        fallback: the extractive `answer(question, hits)`, used whenever the model fails.
        router: the Answer-returning calculator router of `Assistant.ask`; when the model owns calculations
            (native tools) and fails, a fee question is answered by it rather than extractively.
    """
    model = build_chat_model(settings)
    tools = ()
    if uses_native_tools(settings):
        from assistant.calculator import funding_calculator

        tools = (funding_calculator,)
    return GenerativeBackend(
        model,
        fallback,
        name=describe(settings),
        tools=tools,
        router=router,
        max_question_chars=settings.max_question_chars,
    )
