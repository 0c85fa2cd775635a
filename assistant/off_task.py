"""Requests that are not questions about the documents: creative writing, jokes, role play, attempts to
change or read the assistant's instructions. They are declined like an unanswerable question, whatever
they mention, so a limerick "about Ealing headteachers" is never answered with a quoted sentence."""
from __future__ import annotations

import re

_REQUEST = r"(?:write|compose|make up|create|give me|tell me|do|draft|generate|sing|come up with)\s+(?:me\s+|us\s+)?(?:an?\s+|some\s+|the\s+)?(?:short\s+|funny\s+|little\s+|quick\s+)?"
OFF_TASK = [
    ("it asks for creative writing, and I only quote the partnership documents.",
     re.compile(_REQUEST + r"(?:poem|limerick|haiku|sonnet|song|rap|verse|story|stories|rhyme|jingle|lyrics|fairy ?tale)s?\b"
                r"|\b(?:in|as) (?:a|the) (?:poem|limerick|haiku|song|rap|rhyme|sonnet)\b", re.I)),
    ("it asks me to write something, and I only answer questions about the partnership documents.",
     re.compile(r"\b(?:write|draft|compose)\s+(?:me\s+|us\s+)?(?:an?|some)\s+(?:\w+\s+){0,2}"
                r"(?:letter|email|e-mail|newsletter|essay|speech|blog|tweet|post|press release|advert)s?\b", re.I)),
    ("it asks for a joke, and I only answer questions about the partnership documents.",
     re.compile(r"\b(?:tell|give|know|make)\b.{0,20}\bjokes?\b|\bsomething funny\b|\bmake me laugh\b|\bpun\b", re.I)),
    ("it asks me to play a part, and I only answer questions about the partnership documents.",
     re.compile(r"\b(?:pretend|imagine) (?:to be|you(?:'re| are))\b|(?:^|[.!?]\s+|\byou\s+)(?:please\s+)?(?:act|behave|respond|answer|speak|talk) (?:as|like)\b"
                r"|\brole[- ]?play\b|\byou are now\b|\bfrom now on,? you\b", re.I)),
    ("it asks me to invent something, and I only quote what the partnership documents say.",
     re.compile(r"(?<!I )\b(?:make up|invent|fabricate|guess)\s+(?:me\s+|us\s+)?(?:an?\s+|some\s+|the\s+)?(?:[\w-]+\s+){0,3}"
                r"(?:fee|figure|number|rate|price|cost|answer|statistic|data|result|score)s?\b", re.I)),
    ("it is about my instructions rather than the partnership documents.",
     re.compile(r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}\b(?:instructions?|rules?|prompts?|guidelines|everything)\b"
                r"|\b(?:ignore|disregard)\s+(?:what|whatever)\s+you\b"
                r"|\b(?:system|initial|hidden|original) (?:prompt|message|instructions?)\b"
                r"|\b(?:your|the assistant's) (?:instructions|prompt|rules|guidelines|configuration|programming)\b"
                r"|\bjailbreak\b|\bdeveloper mode\b|\bDAN\b", re.I)),
]


def off_task_reason(question: str) -> str | None:
    """Why `question` is not a question about the documents, or None when it may be one."""
    for reason, pattern in OFF_TASK:
        if pattern.search(question):
            return reason
    return None
