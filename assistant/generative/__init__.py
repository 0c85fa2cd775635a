"""The generative answer backend: a chat model answers from the retrieved chunks and calls the funding
calculator as a native tool for requests the router cannot parse; the factory composes it with the
extractive backend, which answers whenever the model fails."""
from __future__ import annotations

from assistant.config import Settings
from assistant.generative.backend import FIGURES_NOTICE, NOTICE, CalculatorAnswer, GenerativeBackend, ping
from assistant.generative.chat_model import (
    ChatModelConfigError,
    Provider,
    build_chat_model,
    describe,
    register_provider,
    uses_native_tools,
)

__all__ = [
    "FIGURES_NOTICE",
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


def build_backend(settings: Settings, calculator_answer: CalculatorAnswer | None = None) -> GenerativeBackend:
    """The backend configured by the PARTNERSHIP_LLM_* settings (ChatModelConfigError if they are unusable).

    Args:
        settings: the PARTNERSHIP_LLM_* fields say which model, where, and whether it gets the calculator tool.
        calculator_answer: the calculator's Answer for a tool call's arguments, which replaces a model
            answer whose figures the calculator result does not give.
    """
    model = build_chat_model(settings)
    tools = ()
    if uses_native_tools(settings):
        from assistant.calculator import funding_calculator

        tools = (funding_calculator,)
    return GenerativeBackend(
        model,
        name=describe(settings),
        tools=tools,
        calculator_answer=calculator_answer,
        cooldown=settings.llm_cooldown_seconds,
        max_question_chars=settings.max_question_chars,
    )
