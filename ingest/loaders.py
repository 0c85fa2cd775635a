"""Read a file into pages of text, refusing unusable files with a message that says why.

Text files become one page with number None; PDFs keep their 1-based page numbers so citations can
point at a page.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import IngestError

SUPPORTED_SUFFIXES = {".txt", ".md", ".pdf", ".docx"}
TEXT_SUFFIXES = {".txt", ".md"}
_MB = 1024 * 1024


@dataclass(frozen=True)
class Page:
    """Text of one page (PDF) or of a whole text file (number None)."""

    text: str
    number: int | None


def load_pages(path: Path, max_bytes: int | None = None) -> list[Page]:
    """Load `path` into pages. Raises IngestError with a specific, human reason on any unusable file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = f"'{suffix}'" if suffix else "(no extension)"
        raise IngestError(f"unsupported file type {shown} (supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})")
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise IngestError("file not found") from exc
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or exc}") from exc
    if size == 0:
        raise IngestError("file is empty")
    # Checked before reading so a huge file never lands in memory.
    if max_bytes is not None and size > max_bytes:
        raise IngestError(f"file is larger than {_fmt_mb(max_bytes)} MB limit ({size / _MB:.1f} MB)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or exc}") from exc
    if suffix == ".pdf":
        return _load_pdf(path, data)
    if suffix == ".docx":
        return [Page(text=_docx_text(data), number=None)]
    text = decode_text(data)
    if not text.strip():
        raise IngestError("file contains only whitespace")
    return [Page(text=text, number=None)]


def _fmt_mb(max_bytes: int) -> str:
    value = max_bytes / _MB
    return f"{value:g}" if value >= 1 else f"{value:.2g}"


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM stripped) with normalised newlines; binary or non-UTF-8 content is an IngestError."""
    if b"\x00" in data:
        raise IngestError("contains NUL bytes — looks binary, not a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise IngestError(
            f"not valid UTF-8 text (byte 0x{bad:02x} at offset {exc.start}) — is it a binary file or another encoding?"
        ) from exc
    return normalise_newlines(text)


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _load_pdf(path: Path, data: bytes) -> list[Page]:
    # pypdf logs warnings for every recoverable defect; the error we raise is what the user needs.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    from io import BytesIO

    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    if not data.lstrip()[:5].startswith(b"%PDF-"):
        raise IngestError("corrupt or truncated PDF: missing %PDF- header")
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise IngestError(f"PDF is encrypted with an unsupported method ({exc})") from exc
            if not opened:
                raise IngestError("PDF is encrypted (password protected); remove the password and ingest again")
        pages: list[Page] = []
        for number, page in enumerate(reader.pages, start=1):
            text = normalise_newlines(page.extract_text() or "")
            if text.strip():
                pages.append(Page(text=text, number=number))
    except IngestError:
        raise
    except (FileNotDecryptedError, DependencyError):
        raise IngestError("PDF is encrypted (password protected); remove the password and ingest again") from None
    except Exception as exc:  # noqa: BLE001
        # pypdf surfaces damaged files as many exception types (PdfReadError, KeyError, ValueError,
        # RecursionError...); all mean the same thing to the user, and none may escape as a traceback.
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise IngestError(f"corrupt or truncated PDF: {reason}") from exc
    if not pages:
        raise IngestError("PDF has no extractable text — scanned? (OCR it first)")
    return pages


def _docx_text(data: bytes) -> str:
    """Word text in document order, written the way the chunkers read text files: headings as
    markdown headings, list paragraphs as "- " items, tables as tab-separated rows."""
    from io import BytesIO

    import docx
    from docx.table import Table

    if data.startswith(b"\xd0\xcf\x11\xe0"):
        # An OLE container: a password-protected .docx or an old binary .doc renamed.
        raise IngestError("Word document is encrypted (password protected) or in the old .doc format; save it as a plain .docx")
    try:
        document = docx.Document(BytesIO(data))
        lines: list[str] = []
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                lines.append("")
                for row in item.rows:
                    cells = [" ■ ".join(p.text.strip() for p in cell.paragraphs if p.text.strip()) for cell in row.cells]
                    lines.append("\t".join(c.replace("\t", " ") for c in cells))
                lines.append("")
                continue
            text = item.text.strip()
            style = (item.style.name if item.style is not None else "") or ""
            if not text:
                lines.append("")
            elif style.startswith("Heading") or style == "Title":
                lines.extend(["", f"# {text}", ""])
            elif "List" in style or item._p.pPr is not None and item._p.pPr.numPr is not None:
                lines.append(f"- {text}")
            else:
                lines.extend([text, ""])
    except Exception as exc:  # noqa: BLE001
        # Like pypdf, python-docx/lxml raise many types on a damaged file; the user needs one message.
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise IngestError(f"corrupt or unreadable Word document: {reason}") from exc
    text = normalise_newlines("\n".join(lines))
    if not text.strip():
        raise IngestError("Word document has no text")
    return text
