"""What the soak sends: a fixed, repeating mix of requests, each with the one status it must get, and the
check that an answer's citations come from one version of the edited document.

Pure data and small functions (no sockets): bench/soak.py drives them against the server.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

API_KEY = "soak-key"
EDITED = "ealing-elp-qa-briefings-2017-11.txt"
# The edit made mid-soak: two Q&A answers change in the middle of a sentence, so any citation quoting
# either spot belongs to one version only.
EDITS = (
    ("from schools is for one year in the first instance.",
     "from schools is for one school year in the first instance, reviewed by the board each spring."),
    ("Schools need to decide if they subscribe to the values",
     "Schools need to decide together if they subscribe to the values"),
)
# Asked often, so answers citing the edited document are seen while the re-ingest runs.
ABOUT_EDITED = ["Why is ELP only for one year?", "Is ELP all or nothing?",
                "Is the ELP commitment for one year, and is it all or nothing?"]
FALLBACK = {
    "question": ["Who sits on the ELP board?", "What does the Hillingdon Learning Partnership offer schools?",
                 "What is Learning Locally?", "How is the partnership's performance reviewed?"],
    "calc": ["How much would a 2FE maintained primary pay for ELP?", "What does Harrow charge a secondary school?"],
    "decline": ["What is the weather in Ealing tomorrow?"],
}
FOLLOW_UP = {"question": "and who decides that?",
             "history": [{"role": "user", "content": "Why is ELP only for one year?"},
                         {"role": "assistant", "content": "The commitment is for one year in the first instance."}]}


@dataclass(frozen=True)
class Request:
    kind: str  # ask, ask_edited, follow_up, calc_ask, decline, calculate, feedback, documents, ready, bad:<what>
    method: str
    path: str
    expect: int
    json: object = None
    content: bytes | None = None
    headers: dict = field(default_factory=dict)
    auth: str | None = API_KEY  # None: no Authorization header

    @property
    def is_answer(self) -> bool:
        return self.path == "/ask" and self.expect == 200


def bad_requests() -> list[Request]:
    """Requests a client gets wrong, with the status each must get (never a 5xx, never a hang)."""
    ask = {"question": "Who sits on the ELP board?"}
    return [
        Request("bad:no_key", "POST", "/ask", 401, json=ask, auth=None),
        Request("bad:wrong_key", "POST", "/ask", 401, json=ask, auth="not-the-key"),
        Request("bad:malformed_json", "POST", "/ask", 422, content=b'{"question": "unterminated',
                headers={"Content-Type": "application/json"}),
        Request("bad:empty_question", "POST", "/ask", 422, json={"question": "   "}),
        Request("bad:long_question", "POST", "/ask", 422, json={"question": "why " * 600}),
        Request("bad:unknown_field", "POST", "/ask", 422, json={**ask, "temperature": 2}),
        Request("bad:history_role", "POST", "/ask", 422, json={**ask, "history": [{"role": "system", "content": "x"}]}),
        Request("bad:body_over_64kb", "POST", "/ask", 413, json={"question": "x" * 70_000}),
        Request("bad:feedback_rating", "POST", "/feedback", 422, json={"question": "q", "answer": "a", "rating": "meh"}),
        Request("bad:calc_unknown", "POST", "/calculate", 422, json={"partnership": "Atlantis", "pupils": 300}),
        Request("bad:calc_missing", "POST", "/calculate", 422, json={"partnership": "ealing"}),
        Request("bad:wrong_method", "GET", "/ask", 405),
        Request("bad:no_such_path", "GET", "/no-such-endpoint", 404),
    ]


def questions_by_kind() -> tuple[dict[str, list[str]], list[dict], str]:
    """(questions by kind, follow-ups with their history, where they came from): the eval dataset's."""
    try:
        from eval.schema import DEFAULT_DATASET, load_dataset

        items = load_dataset()
    except Exception as exc:  # an unusable dataset: still soak, and say which questions were used
        return dict(FALLBACK), [FOLLOW_UP], f"fixed lists in bench/soak_traffic.py ({exc.__class__.__name__})"
    plain = [i for i in items if not i.history]
    by_kind = {"question": [i.question for i in plain if i.kind in ("qa", "fact")],
               "calc": [i.question for i in plain if i.kind == "calc"],
               "decline": [i.question for i in plain if i.kind == "decline"]}
    follow_ups = [{"question": i.question, "history": [t.model_dump() for t in i.history]} for i in items if i.history]
    return by_kind, follow_ups or [FOLLOW_UP], f"{DEFAULT_DATASET.name} ({len(items)} items)"


# One cycle of 20 requests: mostly answers, some calculations, feedback and client mistakes.
CYCLE = ("ask", "ask_edited", "ask", "follow_up", "calc_ask", "ask", "feedback", "ask_edited", "bad", "ask",
         "calculate", "decline", "ask", "ask_edited", "follow_up", "feedback", "calc_ask", "bad", "ask", "documents")


def request_stream(by_kind: dict[str, list[str]], follow_ups: list[dict]):
    """Requests in a fixed order (same every run), from `questions_by_kind()`. Question texts carry the
    request number, so no two are alike and caches cannot hide a leak."""
    pools = {"ask": itertools.cycle(by_kind["question"]), "ask_edited": itertools.cycle(ABOUT_EDITED),
             "calc_ask": itertools.cycle(by_kind["calc"]), "decline": itertools.cycle(by_kind["decline"]),
             "follow_up": itertools.cycle(follow_ups), "bad": itertools.cycle(bad_requests())}
    calcs = itertools.cycle([{"partnership": "ealing", "phase": "primary", "pupils": 420},
                             {"partnership": "harrow", "phase": "secondary"},
                             {"partnership": "haringey", "pupils": 600}])
    for serial, kind in enumerate(itertools.cycle(CYCLE)):
        if kind == "bad":
            yield next(pools["bad"])
        elif kind == "follow_up":
            turn = next(pools["follow_up"])
            yield Request(kind, "POST", "/ask", 200, json={"question": f"{turn['question']} ({serial})",
                                                            "history": turn["history"]})
        elif kind in ("ask", "ask_edited", "calc_ask", "decline"):
            yield Request(kind, "POST", "/ask", 200, json={"question": f"{next(pools[kind])} ({serial})"})
        elif kind == "calculate":
            yield Request(kind, "POST", "/calculate", 200, json=next(calcs))
        elif kind == "feedback":
            yield Request(kind, "POST", "/feedback", 204, json={
                "question": "Why is ELP only for one year?", "answer": f"Soak answer {serial}",
                "rating": "up" if serial % 3 else "down", "comment": f"soak {serial}"})
        else:
            yield Request(kind, "GET", "/documents", 200)


# -- one version of the edited document --------------------------------------------------------------

def edited_version(original: str) -> str:
    """The edited document's text after the mid-soak edit."""
    text = original
    for old, new in EDITS:
        if old not in text:
            raise RuntimeError(f"the soak's edit no longer applies to {EDITED}: {old!r} is not in it")
        text = text.replace(old, new, 1)
    return text


def _norm(text: str) -> str:
    # Citation snippets are whitespace-collapsed and show tabs as " | "; compare on words alone.
    return re.sub(r"\s+", " ", text.replace(" | ", " ").replace("\t", " ")).strip().lower()


# A snippet joins quoted sentences with "…", and Q&A rows are chunked as "Q: … A: …": the pieces between
# are verbatim document text.
_PIECES = re.compile(r"\s*…\s*|\bQ: |\bA: ")
MIN_PIECE = 12  # shorter pieces ("Yes.") say nothing about the version


class VersionCheck:
    """Classifies each answer's citations of the edited document: old version, new version, either
    (text both versions share), or mixed (old and new in one answer: the failure the soak looks for)."""

    def __init__(self, corpus_file: Path):
        original = corpus_file.read_text(encoding="utf-8")
        self.old, self.new = _norm(original), _norm(edited_version(original))

    def _citation(self, snippet: str) -> set[str]:
        found = set()
        for piece in _PIECES.split(snippet):
            piece = _norm(piece)
            if len(piece) < MIN_PIECE:
                continue
            in_old, in_new = piece in self.old, piece in self.new
            found.add("either" if in_old and in_new else "old" if in_old else "new" if in_new else "unmatched")
        return found

    def classify(self, answer: dict) -> str | None:
        """'old', 'new', 'either', 'mixed' or 'unmatched' (text in neither version); None: not cited."""
        seen: set[str] = set()
        for citation in answer.get("citations") or []:
            if citation.get("source") == EDITED:
                seen |= self._citation(citation.get("snippet", "")) or {"either"}
        if not seen:
            return None
        if {"old", "new"} <= seen:
            return "mixed"
        for label in ("old", "new", "unmatched"):
            if label in seen:
                return label
        return "either"
