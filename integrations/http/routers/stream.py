"""POST /ask/stream — `POST /ask` as server-sent events: `delta` events with the text as it is written, then
one `answer` event carrying the Answer (the same contract as `POST /ask`), or one `error` event."""
from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.errors import AssistantError
from assistant.models import Answer, Filters
from assistant.partnerships import resolve_partnership
from integrations.http.deps import AssistantDep, ClientDep
from integrations.http.errors import DOMAIN_STATUS, request_id
from integrations.http.middleware import INTERNAL_ERROR
from integrations.http.schemas import ERROR_RESPONSES, AskRequest

log = logging.getLogger("partnership.http")

router = APIRouter(tags=["ask"], responses=ERROR_RESPONSES)

EVENTS_DOC = (
    "Server-sent events. `event: delta` — `data: {\"text\": \"...\"}`, the next piece of the answer text "
    "(extractive and calculator answers come as one delta). Then exactly one of `event: answer` — `data:` the "
    "Answer JSON of `POST /ask` (authoritative: replace the streamed text with its `answer`, which has its "
    "citations checked) — or `event: error` — `data: {\"error\", \"request_id\", \"status\"}`."
)
STREAM_RESPONSE = {
    200: {
        "description": EVENTS_DOC,
        "content": {"text/event-stream": {
            # OpenAPI 3.1: the schema of a text/event-stream describes one event (what schemathesis checks).
            "schema": {
                "type": "object",
                "required": ["event", "data"],
                "properties": {
                    "event": {"type": "string", "enum": ["delta", "answer", "error"]},
                    "data": {"type": "string", "contentMediaType": "application/json",
                             "description": "delta: {\"text\"}; answer: the Answer of POST /ask; "
                                            "error: {\"error\", \"request_id\", \"status\"}"},
                },
            },
            "example": 'event: delta\ndata: {"text": "Yes. "}\n\nevent: answer\ndata: {"answer": "Yes. ... [1]", '
                       '"citations": [...], "tool_calls": [], "grounded": true, "calculation": null}\n\n',
        }},
    },
}


def sse(event: str, data: str) -> str:
    return f"event: {event}\ndata: {data}\n\n"  # JSON has no raw newlines: one data line


@router.post("/ask/stream", response_class=StreamingResponse, responses=STREAM_RESPONSE)
async def ask_stream(body: AskRequest, request: Request, assistant: AssistantDep, _client: ClientDep) -> StreamingResponse:
    """Answer a question as server-sent events: text deltas as they are written, then the Answer."""

    def start() -> Iterator[str | Answer]:
        filters = None
        if body.partnership is not None:
            filters = Filters(partnership=resolve_partnership(body.partnership, assistant.documents()))
        return assistant.ask_stream(body.question, history=body.history, filters=filters)

    # Validation, routing and retrieval run before the response starts: a bad request is a plain JSON 4xx.
    items = await run_in_threadpool(start)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(items, request), media_type="text/event-stream", headers=headers)


async def events(items: Iterator[str | Answer], request: Request) -> AsyncIterator[str]:
    """The SSE body. The blocking iterator advances in a worker thread; a client that goes away (Starlette
    cancels this generator, or it is seen between events) has the iterator closed, which closes the model's
    stream — the generation stops."""
    done = object()
    try:
        while not await request.is_disconnected():
            try:
                item = await anyio.to_thread.run_sync(next, items, done)
            except Exception as exc:  # after the headers: the error travels as an event
                yield sse("error", json.dumps(error_body(request, exc)))
                return
            if item is done:
                return
            if isinstance(item, Answer):
                yield sse("answer", item.model_dump_json())
                return
            yield sse("delta", json.dumps({"text": item}, ensure_ascii=False))
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            with anyio.CancelScope(shield=True):  # runs even when the response was cancelled
                await anyio.to_thread.run_sync(close)


def error_body(request: Request, exc: Exception) -> dict:
    if isinstance(exc, AssistantError):
        status = next(code for kind, code in DOMAIN_STATUS if isinstance(exc, kind))
        return {"error": str(exc), "request_id": request_id(request), "status": status}
    log.error("request_id=%s stream failed: %s", request_id(request), type(exc).__name__, exc_info=exc)
    return {"error": INTERNAL_ERROR, "request_id": request_id(request), "status": 500}
