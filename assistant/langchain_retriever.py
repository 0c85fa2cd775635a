"""HybridRetriever as a LangChain BaseRetriever, for a LangChain chain. Separate and imported on demand:
`langchain_core.retrievers` pulls LangChain's tracer stack, which answering never needs."""
from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.models import Filters
from assistant.retrieval import HybridRetriever


class LangChainRetriever(BaseRetriever):
    """`invoke(question, filters=Filters(...), k=...)` as HybridRetriever.invoke, with LangChain's callbacks."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    hybrid: HybridRetriever

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                filters: Filters | None = None, k: int | None = None) -> list[Document]:
        return self.hybrid.invoke(query, filters=filters, k=k)
