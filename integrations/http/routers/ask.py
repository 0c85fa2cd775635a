"""POST /ask — the Answer contract shared with `partnership ask --json`."""
from __future__ import annotations

from fastapi import APIRouter

from assistant.models import Answer, Filters
from assistant.partnerships import resolve_partnership
from integrations.http.deps import AssistantDep, ClientDep
from integrations.http.schemas import ERROR_RESPONSES, AskRequest

router = APIRouter(tags=["ask"], responses=ERROR_RESPONSES)


@router.post("/ask", response_model=Answer)
def ask(body: AskRequest, assistant: AssistantDep, _client: ClientDep) -> Answer:
    """Answer a question from the partnership documents, with numbered citations.

    A plain `def`: FastAPI runs it in the thread pool, so retrieval never blocks the event loop.
    """
    filters = None
    if body.partnership is not None:
        filters = Filters(partnership=resolve_partnership(body.partnership, assistant.documents()))
    return assistant.ask(body.question, history=body.history, filters=filters)
