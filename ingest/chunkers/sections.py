"""Blocks -> chunk units: sections under headings, Q&A pairs, tables and (in booklets) partnership profiles.

Headings are decided in context: a short line is a heading when body text follows it, but a diagram
label when more labels follow; a run of headings with no body between them becomes one section whose
title is the last heading (earlier ones are kept as context lines, so no text is lost).
"""
from __future__ import annotations

from dataclasses import dataclass

from ingest.chunkers.blocks import (
    LABEL_CHARS,
    QA_LINE,
    Block,
    heading_candidate,
    is_label_block,
    is_list,
    toc_entry,
)
from ingest.chunkers.splitting import TARGET_CHARS, split_text, split_with_title
from ingest.chunkers.tables import html_row_chunks, is_html_row_table, qa_sheet_pairs, table_chunks
from ingest.metadata import DocMeta

CASE_STUDY_MIN_CHARS = 80
MAX_QUESTION_CHARS = 400


@dataclass(frozen=True)
class Unit:
    """One chunk before metadata is attached."""

    text: str
    section: str
    chunk_type: str
    page: int | None
    partnership: str
    question: str = ""


def profile_names(blocks: list[Block], meta: DocMeta) -> set[str]:
    """Headings that open a partnership profile in a multi-partnership document: the partnerships named
    in the metadata, plus table-of-contents entries listed after the first of them (e.g. the AEPA page)."""
    if len(meta.partnerships) < 2:
        return set()
    names = set(meta.partnerships)
    started = False
    for block in blocks:
        if block.kind != "toc":
            continue
        for line in block.lines:
            entry = toc_entry(line)
            if entry in meta.partnerships:
                started = True
            elif started:
                names.add(entry)
    return names


def _title_text(heading: str) -> str:
    heading = heading.strip().rstrip(":").rstrip()
    if heading.lower().startswith("for more information"):
        return "For more information"
    return heading


class SectionBuilder:
    """Walks the blocks of one document once, emitting Units."""

    def __init__(self, blocks: list[Block], meta: DocMeta):
        self.blocks = blocks
        self.slides = "slide" in meta.kind.lower()
        self.body_type = "slide" if self.slides else "section"
        self.profiles = profile_names(blocks, meta)
        self.partnership_names = set(meta.partnerships)
        self.heads = [heading_candidate(b, 200 if self.slides else 160) for b in blocks]
        self.heads = [None if h and h.count(",") >= 2 else h for h in self.heads]  # "Name, Role, Org" lines
        self.roles = self._roles()
        in_profiles = any(h in self.profiles for h in self.heads if h)
        # A booklet's general chapters are about no single partnership.
        self.default_partnership = "" if in_profiles or not meta.partnerships else meta.partnerships[0]
        self.profile: str | None = None
        self.heading = ""
        self.context: list[str] = []
        self.pending: list[str] = []
        self.pending_page: int | None = None
        self.body: list[Block] = []
        self.units: list[Unit] = []

    # ---- classification -------------------------------------------------------------------------
    def _roles(self) -> list[str]:
        blocks, heads = self.blocks, self.heads
        n = len(blocks)
        roles = []
        for block, head in zip(blocks, heads):
            if block.kind in {"toc", "table", "q", "a"}:
                roles.append(block.kind)
            else:
                roles.append("heading" if head else "body")
        for i in range(n - 1):
            if roles[i] == "heading" and roles[i + 1] == "toc" and heads[i].lower().rstrip(":") in {"contents", "table of contents"}:
                roles[i] = "skip"
        demoted_labels: set[int] = set()
        for i in range(n - 1, -1, -1):  # right to left: each decision may depend on the next block's role
            if roles[i] != "heading" or blocks[i].kind == "mdheading":
                continue
            head = heads[i]
            nxt = blocks[i + 1] if i + 1 < n else None
            if nxt is None:
                roles[i] = "body"  # nothing follows: a closing line, not a heading
                continue
            next_role = roles[i + 1]
            next_is_text = next_role == "body" and not is_label_block(nxt)
            if head.endswith(":"):
                # "Focus on ... to include:" introduces its list; "For more information, contact:" heads a block.
                if (len(head) > 60 or next_is_text) and not head.lower().startswith("for more information"):
                    roles[i] = "body"
            elif len(head) <= LABEL_CHARS and next_role == "body" and (is_label_block(nxt) or i + 1 in demoted_labels):
                roles[i] = "body"  # a diagram label followed by more labels
                demoted_labels.add(i)
            elif self.slides and head.endswith("?") and next_role == "heading":
                roles[i] = "body"  # a prompt closing the previous slide
        return roles

    # ---- state helpers --------------------------------------------------------------------------
    def section_title(self) -> str:
        if self.profile and self.heading:
            return f"{self.profile} — {self.heading}"
        return self.profile or self.heading

    @property
    def partnership(self) -> str:
        return self.profile or self.default_partnership

    def _add(self, text: str, chunk_type: str, page: int | None, section: str | None = None, question: str = "",
             partnership: str | None = None) -> None:
        if text.strip():
            section = self.section_title() if section is None else section
            self.units.append(Unit(text.strip(), section, chunk_type, page, partnership or self.partnership, question))

    def _take_pending(self) -> None:
        """Turn the run of pending headings into the current heading (+ context lines)."""
        if not self.pending:
            return
        run = [_title_text(h) for h in self.pending]
        self.pending = []
        last = run[-1]
        if len(run) >= 2 and len(last) <= LABEL_CHARS and len(last.split()) <= 3 and len(run[-2]) <= 70:
            self.heading, self.context = f"{run[-2]} — {last}", run[:-2]
        else:
            self.heading, self.context = last, run[:-1]

    def _flush_body(self) -> None:
        if not self.body:
            return
        text = "\n\n".join(["\n".join(self.context)] * bool(self.context) + [b.text for b in self.body])
        for piece in split_with_title(self.section_title(), text):
            self._add(piece, self.body_type, self.body[0].page)
        self.body, self.context = [], []

    def _flush_all(self, keep_pending: bool) -> None:
        self._flush_body()
        if self.pending and keep_pending:
            page = self.pending_page
            self._take_pending()
            title = self.section_title()
            self._add("\n".join([title, *self.context]), self.body_type, page)
            self.context = []
        self.pending = []

    # ---- emitters -------------------------------------------------------------------------------
    def _emit_qa(self, question: str, answer: str, page: int | None) -> None:
        question, answer = question.strip(), answer.strip()
        if not question:
            return
        if len(question) > MAX_QUESTION_CHARS:
            # Not a question someone would ask; keep the text as an ordinary section.
            body = f"Q: {question}\nA: {answer}" if answer else f"Q: {question}"
            for piece in split_with_title(self.section_title(), body):
                self._add(piece, self.body_type, page)
            return
        if not answer:
            self._add(f"Q: {question}", "qa", page, section=question, question=question)
            return
        head = f"Q: {question}\nA: "
        for piece in split_text(answer, TARGET_CHARS - len(head)):
            self._add(head + piece, "qa", page, section=question, question=question)

    def _emit_table(self, block: Block) -> None:
        pairs = qa_sheet_pairs(block.lines)
        if pairs:
            self._flush_body()
            self._take_pending()
            self.context = []
            for pair in pairs:
                self._emit_qa(pair.question, pair.answer, block.page)
            return
        self._flush_body()
        self._take_pending()
        title, context = self.section_title(), self.context
        self.context = []
        if is_html_row_table(block.lines):
            for line in block.lines:
                row_title, texts = html_row_chunks(line)
                for text in texts:
                    self._add(text, "table", block.page, section=row_title or title)
        else:
            for text, rows in table_chunks(block.lines, title, context):
                section = f"{title} — {rows}" if title and rows else (title or rows)
                # A piece holding one partnership's row (a comparison table) is about that partnership.
                about = rows if rows in self.partnership_names else None
                self._add(text, "table", block.page, section=section, partnership=about)

    def _add_body(self, block: Block) -> None:
        if self.pending:
            self._flush_body()
            self._take_pending()
        elif self.body and self.body[-1].page != block.page:
            self._flush_body()  # a chunk never spans pages; the heading carries over
        if (
            self.profile
            and self.heading == "For more information"
            and not is_list(block)
            and not is_label_block(block)
            and block.text.endswith((".", "!", "?"))
            and len(block.text) > CASE_STUDY_MIN_CHARS
        ):
            # Profiles end with a contact block followed by an untitled case-study box.
            self._flush_body()
            self.heading = "Case study"
        self.body.append(block)

    # ---- main walk ------------------------------------------------------------------------------
    def _can_answer(self, i: int, page: int | None) -> bool:
        if i >= len(self.blocks) or self.blocks[i].page != page:
            return False
        role, head = self.roles[i], self.heads[i]
        if role == "body":
            return True
        return role == "heading" and self.blocks[i].kind == "para" and not head.endswith("?") and head not in self.profiles

    def _answer_blocks(self, start: int, page: int | None) -> tuple[list[Block], int]:
        """Blocks of an answer: the first one, then following prose/list blocks on the same page."""
        taken = [self.blocks[start]]
        j = start + 1
        while j < len(self.blocks) and self.roles[j] == "body" and not is_label_block(self.blocks[j]) and self.blocks[j].page == page:
            taken.append(self.blocks[j])
            j += 1
        return taken, j

    def build(self) -> list[Unit]:
        i, n = 0, len(self.blocks)
        while i < n:
            block, role, head = self.blocks[i], self.roles[i], self.heads[i]
            if role == "toc":
                self._flush_all(keep_pending=True)
            elif role == "skip":
                pass
            elif role == "heading" and head in self.profiles:
                self._flush_all(keep_pending=True)
                self.profile, self.heading = head, ""
            elif role == "heading" and head.endswith("?") and not self.slides and not self.profile and self._can_answer(i + 1, block.page):
                self._flush_body()
                self._take_pending()
                self.context = []
                answer, i = self._answer_blocks(i + 1, block.page)
                self._emit_qa(head, "\n\n".join(b.text for b in answer), block.page)
                continue
            elif role == "heading":
                self._flush_body()
                if not self.pending:
                    self.pending_page = block.page
                self.pending.append(head)
            elif role == "q":
                self._flush_body()
                self._take_pending()
                self.context = []
                question = QA_LINE.match(block.lines[0]).group("rest") + "\n" + "\n".join(block.lines[1:])
                answer_parts: list[str] = []
                j = i + 1
                if j < n and self.roles[j] == "a" and self.blocks[j].page == block.page:
                    answer_block = self.blocks[j]
                    answer_parts.append(QA_LINE.match(answer_block.lines[0]).group("rest") + "\n" + "\n".join(answer_block.lines[1:]))
                    more, j = self._answer_blocks(j, block.page)
                    answer_parts.extend(b.text for b in more[1:])
                self._emit_qa(question.strip(), "\n\n".join(p.strip() for p in answer_parts), block.page)
                i = j
                continue
            elif role == "table":
                self._emit_table(block)
            else:  # body, or an answer with no question before it
                self._add_body(block)
            i += 1
        self._flush_all(keep_pending=True)
        return self.units
