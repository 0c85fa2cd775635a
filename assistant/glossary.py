"""The domain glossary (`corpus/glossary.yaml`): groups of terms that mean the same in school-sector
writing, the way search engines take synonym files. A question's words are searched as asked; the other
terms of each group it uses are searched too, at a lower weight (retrieval) or as related words (answering).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.errors import AssistantError
from assistant.text import tokens

GLOSSARY_FILE = "glossary.yaml"


class GlossaryError(AssistantError):
    """The glossary file cannot be used (says which file and why)."""


@dataclass(frozen=True)
class Glossary:
    groups: tuple[tuple[frozenset[str], ...], ...] = field(default=())  # each term as its token set

    @classmethod
    def from_groups(cls, groups: list[list[str]]) -> "Glossary":
        return cls(tuple(tuple(frozenset(tokens(term)) for term in group if tokens(term)) for group in groups))

    @classmethod
    def load(cls, path: Path | str) -> "Glossary":
        """Read a glossary file; a missing file is an empty glossary, a malformed one a GlossaryError."""
        path = Path(path)
        if not path.is_file():
            return cls()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise GlossaryError(f"{path}: not valid YAML ({exc.__class__.__name__}).") from None
        groups = data.get("groups") if isinstance(data, dict) else None
        if not isinstance(groups, list) or not all(
            isinstance(g, list) and len(g) >= 2 and all(isinstance(t, str) and t.strip() for t in g) for g in groups
        ):
            raise GlossaryError(f"{path}: expected 'groups:' as a list of lists of two or more terms, e.g. - [LA, local authority, council].")
        return cls.from_groups(groups)

    def knows(self, word: str) -> bool:
        """`word` is one of the glossary's terms ("SENCO", "SBM"): sector vocabulary, not a name."""
        toks = frozenset(tokens(word))
        return bool(toks) and any(toks == term for group in self.groups for term in group)

    def related(self, query_tokens: list[str] | set[str]) -> list[str]:
        """Tokens of the other terms of every group the query uses a term of (all of that term's tokens)."""
        present = set(query_tokens)
        out: list[str] = []
        for group in self.groups:
            if any(term <= present for term in group):
                out.extend(sorted(set().union(*group) - present))
        return list(dict.fromkeys(out))
