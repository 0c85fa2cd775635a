"""Text -> blocks: paragraphs, tab-separated runs, Q:/A: blocks and tables of contents, with the
line-level tests (heading? list item? label?) the section builder uses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.loaders import normalise_newlines

LIST_ITEM = re.compile(r"^\s*(?:[-*•■▪●◦–]\s+|\d{1,2}[.)]\s+|\(?[a-z][.)]\s+)")
TOC_LINE = re.compile(r"^(?P<entry>.*?\S)\s*(?:\.{2,}\s*\t*|\t+)\s*(?P<page>\d{1,3})\s*$")
QA_LINE = re.compile(r"^\s*(?P<tag>Q|A)\s*:\s*(?P<rest>.*)$")
MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>\S.*?)\s*#*\s*$")
_TERMINAL = (".", "?", "!", ":", "”", '"', ")", "’")
LABEL_CHARS = 30  # a heading this short may be a diagram label rather than a heading


@dataclass
class Block:
    """A run of non-blank lines. kind: para | table | toc | q | a | mdheading."""

    kind: str
    lines: list[str]
    page: int | None

    @property
    def text(self) -> str:
        return "\n".join(line.strip() for line in self.lines).strip()

    @property
    def single(self) -> bool:
        return len(self.lines) == 1


def clean_text(text: str) -> str:
    """Normalise newlines, drop markdown bold markers, blank out whitespace-only lines."""
    text = normalise_newlines(text).replace("\f", "\n").replace("\u200b", "").replace("\ufeff", "")
    text = text.replace("**", "")
    # Trailing tabs are kept: they are the empty cells of a table row ("School funding\t\t\t\t").
    return "\n".join(line.rstrip(" \r\xa0") if line.strip() else "" for line in text.split("\n"))


def is_toc_line(line: str) -> bool:
    return bool(TOC_LINE.match(line.strip()))


def toc_entry(line: str) -> str:
    match = TOC_LINE.match(line.strip())
    return match.group("entry").rstrip(" .") if match else line.strip()


def reflow_wrapped_lines(text: str, min_full_width: int = 50) -> str:
    """PDF text arrives as visual lines. Rejoin lines wrapped inside a paragraph (a line is a wrap when
    the line before it runs to nearly the full width) and put a blank line between paragraphs, so a page
    reads like a text file: short lines stand alone as headings, paragraphs are whole."""
    lines = clean_text(text).split("\n")
    widths = sorted(len(line.strip()) for line in lines if line.strip())
    if not widths:
        return ""
    full = max(0.7 * widths[int(0.9 * (len(widths) - 1))], min_full_width)
    out: list[str] = []
    previous_full = False
    for line in lines:
        s = line.strip()
        if not s:
            previous_full = False
            continue
        # After a finished sentence, a short unpunctuated capitalised line is a heading, not a wrap.
        heading_like = out and out[-1].rstrip().endswith((".", "?", "!", ":")) and len(s) < 0.6 * full \
            and s[:1].isupper() and not s.endswith((".", ",", ";"))
        if out and previous_full and not heading_like and not LIST_ITEM.match(s) and not QA_LINE.match(s) and "\t" not in line:
            out[-1] = f"{out[-1]} {s}"
        else:
            out.extend(["", line.rstrip()] if out else [line.rstrip()])
        previous_full = len(s) >= full
    return "\n".join(out)


def parse_blocks(text: str, page: int | None) -> list[Block]:
    """Split one page into blocks. Tab rows, Q:/A: lines and markdown headings start their own blocks."""
    blocks: list[Block] = []
    for raw in re.split(r"\n{2,}", clean_text(text)):
        lines = [line for line in raw.split("\n") if line.strip()]
        if not lines:
            continue
        after_contents = bool(blocks) and blocks[-1].text.lower().rstrip(":") in {"contents", "table of contents"}
        if all(is_toc_line(line) for line in lines) and (after_contents or any(".." in line for line in lines)):
            blocks.append(Block("toc", lines, page))
            continue
        current: Block | None = None
        for line in lines:
            kind = _line_kind(line)
            if kind == "mdheading":
                blocks.append(Block("mdheading", [MD_HEADING.match(line).group("text")], page))
                current = None
            elif kind in {"q", "a"}:
                current = Block(kind, [line], page)
                blocks.append(current)
            elif current is not None and (current.kind == kind or (current.kind in {"q", "a"} and kind == "para")):
                current.lines.append(line)
            else:
                current = Block(kind, [line], page)
                blocks.append(current)
    return _repair_broken_paragraphs(_demote_lonely_rows(blocks))


def _line_kind(line: str) -> str:
    if MD_HEADING.match(line):
        return "mdheading"
    if QA_LINE.match(line):
        return "q" if QA_LINE.match(line).group("tag") == "Q" else "a"
    if "\t" in line.strip(" ") or line.startswith("\t"):
        return "table"
    return "para"


def _demote_lonely_rows(blocks: list[Block]) -> list[Block]:
    """A single tab line with fewer than two filled cells is just text with a stray tab."""
    for block in blocks:
        if block.kind == "table" and block.single and sum(1 for c in block.lines[0].split("\t") if c.strip()) < 2:
            block.kind = "para"
            block.lines = [" ".join(c.strip() for c in block.lines[0].split("\t") if c.strip())]
    return [b for b in blocks if any(line.strip() for line in b.lines)]


def _repair_broken_paragraphs(blocks: list[Block]) -> list[Block]:
    """Rejoin a sentence cut by a page-layout break ("... a weekly training" / "programme for ...")."""
    out: list[Block] = []
    for block in blocks:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.kind == block.kind == "para"
            and len(prev.lines[-1].strip()) > 60
            and not prev.lines[-1].rstrip().endswith(_TERMINAL)
            and not LIST_ITEM.match(prev.lines[-1])
            and block.lines[0].strip()[:1].islower()
        ):
            prev.lines[-1] = prev.lines[-1].rstrip() + " " + block.lines[0].strip()
            prev.lines.extend(block.lines[1:])
            continue
        out.append(block)
    return out


def is_list(block: Block) -> bool:
    return block.kind == "para" and bool(LIST_ITEM.match(block.lines[0]))


def is_label_block(block: Block) -> bool:
    """2-5 short lines without sentence punctuation: an address, signature or diagram label."""
    if block.kind != "para" or not 2 <= len(block.lines) <= 5:
        return False
    return all(len(l.strip()) <= 40 and not LIST_ITEM.match(l) for l in block.lines) and not block.lines[-1].rstrip().endswith(".")


def heading_candidate(block: Block, max_chars: int) -> str | None:
    """The heading text if this block could be a heading (context decides later), else None."""
    if block.kind == "mdheading":
        return block.text
    if block.kind != "para" or not block.single:
        return None
    s = block.lines[0].strip()
    if not s or len(s) > max_chars or LIST_ITEM.match(s):
        return None
    if not (s[0].isalnum() or s[0] in "\"'“‘([«"):
        return None
    if s.lower().startswith(("http", "www.")) or (("://" in s or "@" in s) and len(s.split()) <= 3):
        return None
    if s.lower().startswith("question:"):
        return None
    if s.endswith((".", ",", ";")) and not s.endswith("..."):
        return None
    if not re.search(r"[^\W\d_]{2}", s):
        return None
    return s
