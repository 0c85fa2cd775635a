"""Read a file into pages of text, refusing unusable files with a message that says why.

Text files become one page with number None; PDFs keep their 1-based page numbers so citations can
point at a page; PowerPoint decks become one page per slide, numbered by slide and marked as slides.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import IngestError

SUPPORTED_SUFFIXES = {".txt", ".md", ".pdf", ".docx", ".pptx"}
TEXT_SUFFIXES = {".txt", ".md"}
_MB = 1024 * 1024
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a Compound File: old .doc/.ppt, or an encrypted Office file


@dataclass(frozen=True)
class Page:
    """Text of one page (PDF), of a whole text file (number None) or of one slide (`slide`: number is the
    slide number, `title` the slide title, `text` the rest of the slide then its speaker notes)."""

    text: str
    number: int | None
    slide: bool = False
    title: str = ""


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
    if suffix == ".pptx":
        return _load_pptx(data)
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


def _load_pptx(data: bytes) -> list[Page]:
    """One page per slide that has text: its title, then every text frame and table row in the slide's
    reading order (the shape order PowerPoint's reading-order pane and screen readers use; groups
    included), then its speaker notes. Slides keep their number in the deck even when one is skipped."""
    from io import BytesIO
    from zipfile import BadZipFile

    import pptx

    if data.startswith(_OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise IngestError("PowerPoint file is encrypted (password protected); remove the password and ingest again")
        raise IngestError("PowerPoint file is in the old binary .ppt format, not .pptx; save it as .pptx")
    if not data.startswith(b"PK"):
        raise IngestError("not a PowerPoint .pptx file: it is not a zip archive (another kind of file renamed .pptx?)")
    try:
        deck = pptx.Presentation(BytesIO(data))
        pages: list[Page] = []
        for number, slide in enumerate(deck.slides, start=1):
            title_shape = slide.shapes.title
            title = " ".join(_frame_lines(title_shape.text_frame)) if title_shape is not None else ""
            skip = title_shape.shape_id if title_shape is not None else None
            lines = [line for shape in slide.shapes if shape.shape_id != skip for line in _shape_lines(shape)]
            if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
                notes = _frame_lines(slide.notes_slide.notes_text_frame)
                if notes:
                    lines += ["", "Speaker notes:", *notes]
            text = normalise_newlines("\n".join(lines)).strip()
            if title or text:
                pages.append(Page(text=text, number=number, slide=True, title=normalise_newlines(title)))
        slides = len(deck.slides)
    except Exception as exc:  # noqa: BLE001
        # As with pypdf: a damaged zip or its XML raises many types (BadZipFile, KeyError, lxml errors...).
        if isinstance(exc, ValueError) and "is not a PowerPoint file" in str(exc):
            raise IngestError("not a PowerPoint presentation: the zip archive holds another kind of document "
                              "(a Word or Excel file renamed .pptx?)") from exc
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        if isinstance(exc, BadZipFile):
            reason = f"damaged zip archive ({reason})"
        raise IngestError(f"corrupt or truncated PowerPoint file: {reason}") from exc
    if not slides:
        raise IngestError("PowerPoint presentation has no slides")
    if not pages:
        raise IngestError("PowerPoint presentation has no text on any slide — only pictures? (text in images is not read)")
    return pages


def _shape_lines(shape) -> list[str]:
    from pptx.shapes.group import GroupShape

    if isinstance(shape, GroupShape):
        return [line for child in shape.shapes for line in _shape_lines(child)]
    if getattr(shape, "has_table", False):
        rows = [[" ".join(_frame_lines(c.text_frame)) for c in row.cells if not c.is_spanned] for row in shape.table.rows]
        return [" | ".join(cells) for cells in rows if any(cells)]
    return _frame_lines(shape.text_frame) if shape.has_text_frame else []


def _frame_lines(frame) -> list[str]:
    """Non-blank paragraphs of a text frame; a line break inside a paragraph (\\v) starts a new line."""
    return [line.strip() for p in frame.paragraphs for line in p.text.split("\v") if line.strip()]
