"""Optional LLM-judged faithfulness (RAGAS-style): the share of an answer's claims that its cited snippets
support. Only available when a chat model is configured (PARTNERSHIP_LLM_*); never part of the default run.

The answer is split into claims (its sentences, citation markers removed); the judge model sees the cited
snippets and the numbered claims and returns the numbers of the supported ones as JSON. A reply it cannot
parse scores None (not 0): a confused judge must not be mistaken for an unfaithful answer.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.text import sentences

MARKER = re.compile(r"\s*\[\d+\]")
MIN_CLAIM_CHARS = 12  # fragments such as "Yes." carry no checkable claim on their own
JUDGE_INSTRUCTIONS = (
    "You check answers against their sources. For each numbered claim, decide whether the sources state "
    "or directly imply it. Judge only against the sources, not your own knowledge. Reply with JSON only, "
    'in the form {"supported": [1, 3]} listing the numbers of the supported claims.'
)
_JSON = re.compile(r"\{.*\}", re.DOTALL)


def claims(answer_text: str) -> list[str]:
    """The checkable sentences of an answer, without their [n] markers."""
    return [u.strip() for u in sentences(MARKER.sub("", answer_text)) if len(u.strip()) >= MIN_CLAIM_CHARS]


def judge_messages(claim_list: Sequence[str], snippets: Sequence[str]) -> list:
    sources = "\n".join(f"<source n=\"{i}\">\n{s}\n</source>" for i, s in enumerate(snippets, start=1))
    numbered = "\n".join(f"{i}. {c}" for i, c in enumerate(claim_list, start=1))
    return [
        SystemMessage(JUDGE_INSTRUCTIONS),
        HumanMessage(f"Sources:\n{sources}\n\nClaims:\n{numbered}\n\nWhich claims do the sources support?"),
    ]


def parse_supported(reply: str, claim_count: int) -> set[int] | None:
    """Claim numbers the judge marked as supported; None when the reply is not the JSON asked for."""
    match = _JSON.search(reply or "")
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
    except ValueError:
        return None
    numbers = data.get("supported") if isinstance(data, dict) else None
    if not isinstance(numbers, list):
        return None
    return {n for n in numbers if isinstance(n, int) and 1 <= n <= claim_count}


class FaithfulnessJudge:
    """Scores answers with a chat model (built from Settings by `assistant.generative.build_chat_model`)."""

    def __init__(self, model: BaseChatModel):
        self.model = model

    def score(self, answer_text: str, snippets: Sequence[str]) -> float | None:
        """Share of the answer's claims supported by `snippets`; None when there is nothing to judge or
        the judge failed."""
        claim_list = claims(answer_text)
        if not claim_list or not snippets:
            return None
        try:
            reply = self.model.invoke(judge_messages(claim_list, snippets))
        except Exception:  # endpoint down or refusing: no verdict, which is not a low score
            return None
        supported = parse_supported(reply.text, len(claim_list))
        return None if supported is None else len(supported) / len(claim_list)


def build_judge(settings) -> FaithfulnessJudge:
    """The judge on the configured chat model (raises ChatModelConfigError when none is usable)."""
    from assistant.generative import build_chat_model

    return FaithfulnessJudge(build_chat_model(settings))
