"""POST /feedback — thumbs up/down on an answer, stored durably."""
from __future__ import annotations

from fastapi import APIRouter, Response

from integrations.http.deps import ClientDep, FeedbackDep
from integrations.http.schemas import ERROR_RESPONSES, FeedbackRequest

router = APIRouter(tags=["feedback"], responses=ERROR_RESPONSES)


@router.post("/feedback", status_code=204, response_class=Response)
def feedback(body: FeedbackRequest, store: FeedbackDep, client: ClientDep) -> Response:
    """Store a rating of an answer (SQLite in the data dir)."""
    store.add(source="http", user_id=client, question=body.question, answer=body.answer,
              rating=body.rating, comment=body.comment)
    return Response(status_code=204)
