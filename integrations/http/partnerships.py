"""Turns the `partnership` a caller typed ("ealing", "Merton") into a partnership the index knows."""
from __future__ import annotations

import re
from collections.abc import Iterable


def names_in(documents: Iterable[dict]) -> list[str]:
    """Every partnership named by the indexed documents, sorted, without duplicates."""
    names: set[str] = set()
    for doc in documents:
        value = doc.get("partnership") or []
        parts = value if isinstance(value, list) else re.split(r"\s*[;|]\s*", str(value))
        names.update(p.strip() for p in parts if p and p.strip())
    return sorted(names, key=str.lower)


class UnknownPartnership(ValueError):
    """The name matches no indexed partnership, or several; the message lists the valid ones."""

    def __init__(self, message: str, valid: list[str]):
        super().__init__(message)
        self.valid = valid


def resolve(given: str, known: list[str]) -> str:
    """The one known partnership `given` names: an exact match (any case) or whole words of one name."""
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
