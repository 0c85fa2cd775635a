"""The naive LangChain RAG pipeline we measure ourselves against.

Textbook setup: RecursiveCharacterTextSplitter(1000, 200) over the raw corpus text, Chroma similarity
search top-4 with the same embeddings object as the assistant, answer = the top chunk's text. It exposes
the same `ask()` / `retrieve()` shape as `Assistant`, so the runner treats both alike. It never declines
and has no calculator: that is the point of the comparison.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.core import validate_question
from assistant.errors import IndexEmptyError
from assistant.models import Answer, Citation

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 4
TEXT_SUFFIXES = (".txt", ".md")


def read_corpus(corpus_dir: Path) -> list[Document]:
    """Every text or PDF file directly in `corpus_dir`, as raw text (no metadata file, no cleaning)."""
    docs = []
    for path in sorted(Path(corpus_dir).iterdir()):
        if path.suffix.lower() in TEXT_SUFFIXES:
            text = path.read_text(encoding="utf-8", errors="replace")
        elif path.suffix.lower() == ".pdf":
            from pypdf import PdfReader

            text = "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
        else:
            continue
        if text.strip():
            docs.append(Document(page_content=text, metadata={"source": path.name, "title": path.stem}))
    return docs


class NaiveRAG:
    """Naive RAG baseline in its own temporary Chroma directory; call `close()` (or use `with`) to delete it.

    Args:
        corpus_dir: folder of the documents (the same corpus the assistant ingested).
        embeddings: the assistant's embeddings object, so only the pipeline differs.
        max_question_chars: the same question-length limit as the assistant.
    """

    name = "baseline"

    def __init__(self, corpus_dir: Path, embeddings: Embeddings, max_question_chars: int = 2000):
        self.max_question_chars = max_question_chars
        self._dir = tempfile.mkdtemp(prefix="partnership-baseline-")
        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        chunks = splitter.split_documents(read_corpus(corpus_dir))
        self.store = Chroma(
            collection_name="baseline",
            embedding_function=embeddings,
            persist_directory=self._dir,
            client_settings=ChromaSettings(anonymized_telemetry=False, is_persistent=True),
            collection_metadata={"hnsw:space": "cosine"},
        )
        if chunks:
            self.store.add_documents(chunks, ids=[f"baseline-{i}" for i in range(len(chunks))])
        self.chunk_count = len(chunks)

    def retrieve(self, question: str, filters=None) -> list[Document]:
        """Top-4 chunks by vector similarity (filters are ignored: the naive pipeline has no metadata)."""
        if self.chunk_count == 0:
            raise IndexEmptyError()
        return self.store.similarity_search(question, k=TOP_K)

    def ask(self, question: str, history: Sequence | None = None, filters=None) -> Answer:
        """The top chunk's text, citing that chunk; always 'grounded' (the baseline cannot decline)."""
        question = validate_question(question, self.max_question_chars)
        hits = self.retrieve(question)
        top = hits[0]
        citation = Citation(
            n=1,
            source=top.metadata.get("source", ""),
            title=top.metadata.get("title", ""),
            snippet=top.page_content[:320],
        )
        return Answer(answer=top.page_content, citations=[citation], grounded=True)

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "NaiveRAG":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
