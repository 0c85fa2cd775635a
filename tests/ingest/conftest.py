"""Fixtures for ingest tests: real PDFs generated with reportlab (and encrypted with pypdf), and the
real corpus loaded and chunked once per module."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from ingest.chunking import chunk_pages
from ingest.loaders import load_pages
from ingest.metadata import doc_meta_for, load_corpus_metadata

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def make_pdf(pages: list[list[str]]) -> bytes:
    """A real PDF with one page per entry; each entry is the lines drawn on that page ([] = blank page)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for lines in pages:
        y = 800
        for line in lines:
            pdf.drawString(60, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def encrypt_pdf(data: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


THREE_PAGES = [
    ["Partnership funding", "", "Schools pay a subscription each year. The council adds a matched contribution."],
    ["Governance", "", "The board meets every term. Eight headteachers sit on it."],
    ["Next steps", "", "Schools sign up by March. Invoices follow in April."],
]


@pytest.fixture
def three_page_pdf(tmp_path) -> Path:
    path = tmp_path / "three-pages.pdf"
    path.write_bytes(make_pdf(THREE_PAGES))
    return path


@pytest.fixture
def pdf_factory(tmp_path):
    def build(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return build


@pytest.fixture
def pdf_tools():
    """(make_pdf, encrypt_pdf, THREE_PAGES) for tests that build their own PDFs."""
    return make_pdf, encrypt_pdf, THREE_PAGES


@pytest.fixture(scope="module")
def corpus_chunks():
    """{file name: list of Documents} for every corpus document, chunked with its metadata.yaml entry."""
    known = load_corpus_metadata(CORPUS)
    chunks = {}
    for path in sorted(CORPUS.glob("*.txt")):
        chunks[path.name] = chunk_pages(load_pages(path), doc_meta_for(path, known))
    return chunks
