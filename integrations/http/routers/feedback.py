"""POST /feedback — thumbs up/down on an answer, stored durably."""
from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from assistant.provenance import answered_by, index_marker

from integrations.http.deps import ClientDep, FeedbackDep
from integrations.http.schemas import ERROR_RESPONSES, FeedbackRequest

log = logging.getLogger("partnership.http")
router = APIRouter(tags=["feedback"], responses=ERROR_RESPONSES)


@router.post("/feedback", status_code=204, response_class=Response)
def feedback(body: FeedbackRequest, store: FeedbackDep, client: ClientDep, request: Request) -> Response:
    """Store a rating of an answer (SQLite in the data dir), with what reproduces the answer."""
    backend = marker = None
    assistant = request.app.state.assistant  # a rating is stored even while the assistant cannot start
    if assistant is not None:
        backend = answered_by(assistant)
        try:
            marker = index_marker(assistant)
        except Exception as exc:  # the store went away: keep the rating, without the marker
            log.warning("feedback stored without the index marker: %s", exc)
    store.add(source="http", user_id=client, question=body.question, answer=body.answer,
              rating=body.rating, comment=body.comment,
              history=None if body.history is None else [m.model_dump() for m in body.history],
              filters=None if body.partnership is None else {"partnership": body.partnership},
              citations=None if body.citations is None else [c.model_dump() for c in body.citations],
              backend=backend, index_marker=marker, expected_source=body.expected_source)
    return Response(status_code=204)
