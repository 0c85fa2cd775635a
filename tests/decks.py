"""PowerPoint decks built by the tests with python-pptx (and the Compound File containers that encrypted
and old-format decks arrive in), so the .pptx path is tested on real files."""
from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

from pptx import Presentation
from pptx.util import Inches

TITLE_AND_CONTENT, TITLE_ONLY, BLANK = 1, 5, 6  # layouts of python-pptx's default template


@dataclass
class Slide:
    """What to put on one slide; an empty Slide() is a blank slide."""

    title: str | None = None
    bullets: list[str] = field(default_factory=list)  # the body placeholder's paragraphs
    notes: str = ""
    table: list[list[str]] | None = None  # rows of cells, header first
    boxes: list[str] = field(default_factory=list)  # free text boxes, top to bottom
    group: list[str] = field(default_factory=list)  # text boxes inside one group shape


def make_deck(slides: list[Slide]) -> bytes:
    deck = Presentation()
    for spec in slides:
        layout = TITLE_AND_CONTENT if spec.bullets else TITLE_ONLY if spec.title is not None else BLANK
        slide = deck.slides.add_slide(deck.slide_layouts[layout])
        if spec.title is not None:
            slide.shapes.title.text = spec.title
        if spec.bullets:
            frame = slide.placeholders[1].text_frame
            frame.text = spec.bullets[0]
            for bullet in spec.bullets[1:]:
                frame.add_paragraph().text = bullet
        top = Inches(1.6)
        if spec.table:
            rows, cols = len(spec.table), len(spec.table[0])
            table = slide.shapes.add_table(rows, cols, Inches(0.5), top, Inches(9), Inches(0.4 * rows)).table
            for r, row in enumerate(spec.table):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
            top += Inches(0.4 * rows + 0.2)
        for text in spec.boxes:
            slide.shapes.add_textbox(Inches(0.5), top, Inches(9), Inches(0.5)).text_frame.text = text
            top += Inches(0.6)
        if spec.group:
            group = slide.shapes.add_group_shape()
            for text in spec.group:
                group.shapes.add_textbox(Inches(0.5), top, Inches(4), Inches(0.5)).text_frame.text = text
                top += Inches(0.6)
        if spec.notes:
            slide.notes_slide.notes_text_frame.text = spec.notes
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def make_compound_file(streams: dict[str, bytes]) -> bytes:
    """A minimal valid OLE2 Compound File (version 3, 512-byte sectors) holding `streams` at its root.

    Office writes a password-protected .pptx as such a file with "EncryptionInfo" and "EncryptedPackage"
    streams; an old binary .ppt is one with a "PowerPoint Document" stream. Every stream is padded to the
    4096-byte mini-stream cutoff so all live in ordinary sectors (no mini FAT needed)."""
    end, free, fat_sector, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    names = sorted(streams, key=lambda n: (len(n), n.upper()))  # the directory's sibling order
    bodies = [streams[n].ljust(4096, b"\0") for n in names]
    fat = [fat_sector, end]  # sector 0: the FAT itself; sector 1: the directory
    starts = []
    for body in bodies:
        count = -(-len(body) // 512)
        starts.append(len(fat))
        fat += [len(fat) + i + 1 for i in range(count - 1)] + [end]
    assert len(fat) <= 128 and len(names) <= 3, "one FAT sector and one directory sector only"

    def entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = (name + "\0").encode("utf-16-le")
        return struct.pack("<64sHBBIII16sIQQIQ", raw, len(raw), kind, 1, no_stream, right, child,
                           b"\0" * 16, 0, 0, 0, start, size)

    directory = entry("Root Entry", 5, no_stream, 1 if names else no_stream, end, 0)
    for i, (name, start, body) in enumerate(zip(names, starts, bodies), start=1):
        directory += entry(name, 2, i + 1 if i < len(names) else no_stream, no_stream, start, len(streams[name]))
    directory = directory.ljust(512, b"\0")
    header = struct.pack("<8s16sHHHHH6sIIIIIIIII", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\0" * 16, 0x3E, 3,
                         0xFFFE, 9, 6, b"\0" * 6, 0, 1, 1, 0, 4096, end, 0, end, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", free) * 108
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat) + struct.pack("<I", free) * (128 - len(fat))
    return header + fat_bytes + directory + b"".join(bodies)


def encrypted_deck() -> bytes:
    """A password-protected .pptx as Office saves it: the zip, encrypted, inside a Compound File (the
    encrypted bytes are stand-ins: the loader must refuse the file without trying to decrypt it)."""
    info = b"\x04\x00\x04\x00\x40\x00\x00\x00" + (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        b'<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption">'
        b'<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" '
        b'cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/></encryption>')
    package = struct.pack("<Q", 30000) + bytes((i * 7919) % 256 for i in range(8192))
    return make_compound_file({"EncryptionInfo": info, "EncryptedPackage": package})


def old_ppt() -> bytes:
    """An old binary PowerPoint 97-2003 file's container (as when a .ppt is renamed .pptx)."""
    return make_compound_file({"Current User": b"\0" * 20, "PowerPoint Document": b"\0" * 64})
