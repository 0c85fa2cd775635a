"""GET /documents — what is indexed."""
from __future__ import annotations

from fastapi import APIRouter

from integrations.http.deps import AssistantDep, ClientDep
from integrations.http.schemas import ERROR_RESPONSES, DocumentOut

router = APIRouter(tags=["documents"], responses=ERROR_RESPONSES)


@router.get("/documents", response_model=list[DocumentOut])
def documents(assistant: AssistantDep, _client: ClientDep) -> list[dict]:
    """Indexed documents with title, kind, partnership and chunk count."""
    return assistant.documents()
