"""Turns the `partnership` a caller typed ("ealing", "Merton") into a partnership the index knows.

One resolution for every adapter: `partnership ask --partnership`, `POST /ask` and Slack's
`/partnership ask --partnership …` all call `resolve_partnership` and report `UnknownPartnership`
their own way (exit 2, HTTP 422, an ephemeral reply).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.errors import AssistantError


class UnknownPartnership(AssistantError, ValueError):
    """The name matches no indexed partnership, or several; the message lists the valid ones.

    Args:
        message: what was wrong, with the valid (or the matching) names.
        valid: those names, for adapters that return them as data (HTTP's ``"valid"``).
    """

    def __init__(self, message: str, valid: list[str]):
        super().__init__(message)
        self.valid = valid


def names_in(documents: Iterable[dict]) -> list[str]:
    """Every partnership named by the indexed documents (`store.documents_summary()`), sorted, no duplicates."""
    names: set[str] = set()
    for doc in documents:
        value = doc.get("partnership") or []
        parts = value if isinstance(value, list) else re.split(r"\s*[;|]\s*", str(value))
        names.update(p.strip() for p in parts if p and p.strip())
    return sorted(names, key=str.lower)


def resolve(given: str, known: list[str]) -> str:
    """The one known partnership `given` names: an exact match (any case) or whole words of one name.

    Raises:
        UnknownPartnership: `given` names none of `known`, or more than one.
    """
    wanted = given.strip()
    for name in known:
        if name.lower() == wanted.lower():
            return name
    words = re.compile(rf"(?<!\w){re.escape(wanted)}(?!\w)", re.IGNORECASE)
    matches = [name for name in known if wanted and words.search(name)]
    if len(matches) == 1:
        return matches[0]
    listing = "; ".join(known) if known else "none (nothing is indexed)"
    if matches:
        raise UnknownPartnership(f"Partnership {wanted!r} is ambiguous: it matches {'; '.join(matches)}.", matches)
    raise UnknownPartnership(f"Unknown partnership {wanted!r}. Valid partnerships: {listing}.", known)


def resolve_partnership(given: str, documents: Iterable[dict]) -> str:
    """`resolve` against the partnerships of the indexed `documents` (`Assistant.documents()`)."""
    return resolve(given, names_in(documents))
