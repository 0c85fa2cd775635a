"""The evaluation dataset: one pydantic model per item, loaded from YAML or JSONL.

Loading never raises a traceback-worthy error: every problem (bad field, duplicate id, unparsable file,
and with `corpus_dir` a source, fact or passage not found in the corpus) is collected into one
DatasetError that names the item ids, so staff editing the file by hand see all their mistakes at once.

Fields added for held-out evaluation, follow-ups and passage-level retrieval (the text below is meant for the
header comment of eval/dataset.yaml):

    split     dev (default) | test. Tune against dev; test is held out and is what `make eval-gate`
              gates (`partnership eval --split test`). Don't look at test failures while tuning.
    history   optional earlier turns of the conversation, oldest first, each
              {role: user | assistant, content: "..."}; the question is then a follow-up, asked with
              that history and retrieved as the assistant's standalone question.
    passage   optional short quote of the source that locates the answering text (copy it from the
              document; matching ignores case, curly quotes, dashes and extra spaces). With a passage,
              recall_at_1 / recall_at_5 / mrr count a hit only when a retrieved chunk contains it (rank =
              chunk rank), and the report shows at which retrieval stage a miss is lost. It must occur
              in one of the `sources`; decline items have none. Keep it short: a quote split across two
              chunks is found in neither.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.models import Message

REGEX_PREFIX = "re:"
KINDS = ("qa", "fact", "calc", "decline")
VARIANTS = ("verbatim", "paraphrase")
SPLITS = ("dev", "test")
TEXT_SUFFIXES = (".txt", ".md")
DEFAULT_DATASET = Path(__file__).with_name("dataset.yaml")


class DatasetError(ValueError):
    """The dataset file cannot be used; `problems` holds one line per problem, prefixed by the item id."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s)\n" + "\n".join(f"  - {p}" for p in problems))


class Turn(Message):
    """One earlier message of the conversation. A `Message` (what `Assistant.ask` takes as history),
    stricter: no unknown fields, no blank content."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("content")
    @classmethod
    def _content_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class EvalItem(BaseModel):
    """One question of the evaluation set with what a correct answer must contain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Unique id: lower-case letters, digits, dashes.")
    kind: Literal["qa", "fact", "calc", "decline"]
    question: str = Field(min_length=1, max_length=2000)
    reference: str = Field(min_length=1, description="The known answer, shown in reports.")
    facts: list[str] = Field(default_factory=list, description='Required strings; "re:" prefix = regular expression.')
    sources: list[str] = Field(default_factory=list, description="Expected corpus file names.")
    origin: str = Field(min_length=1, description="Document and section the item comes from.")
    variant: Literal["verbatim", "paraphrase"] | None = None
    computed: bool = Field(False, description="Facts are figures worked out from a document, not quoted from it.")
    split: Literal["dev", "test"] = Field("dev", description="dev (tune on it) or test (held out, gated).")
    history: list[Turn] | None = Field(None, description="Earlier turns, oldest first: the question is a follow-up.")
    passage: str | None = Field(None, min_length=1, description="Short quote of a source locating the answering text.")

    @field_validator("question", "reference", "origin")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("facts")
    @classmethod
    def _facts_are_valid(cls, facts: list[str]) -> list[str]:
        for fact in facts:
            if not fact.strip() or fact.strip() == REGEX_PREFIX:
                raise ValueError("a fact must not be blank")
            if fact.startswith(REGEX_PREFIX):
                try:
                    re.compile(fact[len(REGEX_PREFIX):])
                except re.error as exc:
                    raise ValueError(f"fact {fact!r} is not a valid regular expression: {exc}") from None
        return facts

    @field_validator("passage")
    @classmethod
    def _passage_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank (leave the field out instead)")
        return value

    @model_validator(mode="after")
    def _kind_rules(self) -> "EvalItem":
        if self.kind == "decline":
            if self.facts or self.sources:
                raise ValueError("decline items have no facts and no sources (the documents do not answer them)")
            if self.passage is not None:
                raise ValueError("decline items have no passage (the documents do not answer them)")
        else:
            if not self.sources:
                raise ValueError(f"{self.kind} items need at least one expected source")
            if not self.facts:
                raise ValueError(f"{self.kind} items need at least one fact")
        return self

    @property
    def answerable(self) -> bool:
        return self.kind != "decline"


def _read_records(path: Path) -> list:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".jsonl":
        records = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DatasetError(path, [f"line {lineno}: not valid JSON ({exc.msg})"]) from None
        return records
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise DatasetError(path, ["unsupported file type: use .yaml, .yml or .jsonl"])
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DatasetError(path, [f"not valid YAML: {exc}"]) from None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return data["items"]
    if isinstance(data, list):
        return data
    raise DatasetError(path, ['expected a mapping with an "items:" list (or a plain list of items)'])


def _describe(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "item"
        msg = err["msg"].removeprefix("Value error, ")
        out.append(f"{where}: {msg}")
    return out


def _source_text(path: Path) -> str:
    """The text of a corpus file, as ingest reads it (text files directly, PDF / .docx via the loader)."""
    if path.suffix.lower() in TEXT_SUFFIXES:
        return path.read_text(encoding="utf-8", errors="replace")
    from ingest.loaders import load_pages

    return "\n".join(page.text for page in load_pages(path))


def _check_against_corpus(item: EvalItem, corpus_dir: Path, texts: dict[str, str | None]) -> list[str]:
    """Problems of `item` against the corpus: a missing source file, a non-computed fact or the passage
    not occurring in any of its sources. `texts` caches file texts (None = unreadable)."""
    from eval.metrics import fact_found, passage_found  # metrics imports this module

    problems = []
    readable = []
    for source in item.sources:
        path = corpus_dir / source
        if not path.is_file():
            problems.append(f"{item.id}: source {source!r} is not a file in {corpus_dir}")
            continue
        if source not in texts:
            try:
                texts[source] = _source_text(path)
            except Exception as exc:  # an unreadable source is reported, not raised
                texts[source] = None
                problems.append(f"{item.id}: source {source!r} cannot be read to check facts and passage ({exc})")
        if texts[source] is not None:
            readable.append(texts[source])
    if problems or not readable:
        return problems
    if not item.computed:
        for fact in item.facts:
            if not any(fact_found(fact, text) for text in readable):
                problems.append(f"{item.id}: fact {fact!r} does not occur in {', '.join(item.sources)} "
                                "(quote the document, or mark a worked-out figure computed: true)")
    if item.passage is not None and not any(passage_found(item.passage, text) for text in readable):
        problems.append(f"{item.id}: passage {item.passage!r} does not occur in {', '.join(item.sources)} "
                        "(copy it from the document)")
    return problems


def load_dataset(path: Path | str | None = None, corpus_dir: Path | str | None = None) -> list[EvalItem]:
    """Read and validate the dataset; with `corpus_dir`, also check every expected source exists there,
    every fact of a non-`computed` item occurs in one of its sources and so does its `passage` (matched
    as facts are: ignoring case, curly quotes, dashes and extra spaces).

    Raises:
        DatasetError: listing every problem with the item id (or position) it belongs to.
    """
    path = Path(path) if path else DEFAULT_DATASET
    if not path.is_file():
        raise DatasetError(path, ["file not found"])
    records = _read_records(path)
    problems: list[str] = []
    items: list[EvalItem] = []
    seen: set[str] = set()
    texts: dict[str, str | None] = {}
    for position, record in enumerate(records, start=1):
        label = record.get("id") if isinstance(record, dict) and record.get("id") else f"item #{position}"
        if not isinstance(record, dict):
            problems.append(f"{label}: expected a mapping of fields, got {type(record).__name__}")
            continue
        try:
            item = EvalItem.model_validate(record)
        except ValidationError as exc:
            problems.extend(f"{label}: {line}" for line in _describe(exc))
            continue
        if item.id in seen:
            problems.append(f"{item.id}: duplicate id")
        seen.add(item.id)
        if corpus_dir is not None:
            problems.extend(_check_against_corpus(item, Path(corpus_dir), texts))
        items.append(item)
    if not records:
        problems.append("the dataset has no items")
    if problems:
        raise DatasetError(path, problems)
    return items
