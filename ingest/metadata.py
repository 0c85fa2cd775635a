"""Per-document metadata: what a file is, which partnerships it covers, and when it dates from.

A folder may hold a `metadata.yaml` keyed by file name; files without an entry still ingest, with a title
derived from the file name and kind "document".
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.errors import IngestError

METADATA_FILE = "metadata.yaml"
DEFAULT_KIND = "document"


@dataclass(frozen=True)
class DocMeta:
    """Descriptive metadata for one source document (shared by all its chunks)."""

    source: str
    title: str
    partnerships: tuple[str, ...]
    kind: str
    date: str | None


def title_from_filename(path: Path) -> str:
    """'hillingdon-hlp-invitation-to-join.txt' -> 'Hillingdon Hlp Invitation To Join'."""
    words = path.stem.replace("_", " ").replace("-", " ").split()
    return " ".join(w[:1].upper() + w[1:] for w in words) or path.name


def _as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if v is not None and str(v).strip())
    raise ValueError(f"expected a name or a list of names, got {type(value).__name__}")


def _entry_to_meta(name: str, entry: dict) -> DocMeta:
    if not isinstance(entry, dict):
        raise ValueError("entry must be a mapping with title/partnership/kind/date")
    # Accept both spellings: the corpus file uses `partnership:` with a list.
    partnerships = _as_tuple(entry.get("partnerships", entry.get("partnership")))
    title = str(entry.get("title") or "").strip() or title_from_filename(Path(name))
    kind = str(entry.get("kind") or DEFAULT_KIND).strip() or DEFAULT_KIND
    date = entry.get("date")
    return DocMeta(source=name, title=title, partnerships=partnerships, kind=kind, date=None if date is None else str(date))


def load_corpus_metadata(folder: Path) -> dict[str, DocMeta]:
    """Read `folder/metadata.yaml` (if present) into {file name: DocMeta}.

    A malformed file raises IngestError naming the file and the problem, rather than silently ingesting
    every document with default metadata.
    """
    path = Path(folder) / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise IngestError(f"{path.name}: not valid YAML ({exc.__class__.__name__}: {str(exc).splitlines()[0]})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise IngestError(f"{path.name}: expected a mapping of file name -> metadata, got {type(data).__name__}")
    known: dict[str, DocMeta] = {}
    for name, entry in data.items():
        try:
            known[str(name)] = _entry_to_meta(str(name), entry or {})
        except ValueError as exc:
            raise IngestError(f"{path.name}: entry '{name}': {exc}") from exc
    return known


def doc_meta_for(path: Path, known: dict[str, DocMeta]) -> DocMeta:
    """Metadata for `path`: its metadata.yaml entry if there is one, else defaults from the file name."""
    path = Path(path)
    if path.name in known:
        return known[path.name]
    return DocMeta(source=path.name, title=title_from_filename(path), partnerships=(), kind=DEFAULT_KIND, date=None)
