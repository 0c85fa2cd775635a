"""Fixtures for ingest tests: real PDFs generated with reportlab (and encrypted with pypdf), and the
real corpus loaded and chunked once per module."""
from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunking import chunk_pages
from ingest.loaders import load_pages
from ingest.metadata import doc_meta_for, load_corpus_metadata
from tests.pdfs import encrypt_pdf, make_pdf

CORPUS = Path(__file__).resolve().parents[2] / "corpus"

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
