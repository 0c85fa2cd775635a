"""GET /healthz and /readyz — unauthenticated and not rate-limited, for probes."""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from integrations.http.deps import get_assistant
from integrations.http.schemas import PROBE_RESPONSES, Health, Ready

router = APIRouter(tags=["health"], responses=PROBE_RESPONSES)


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


NOT_READY = {503: {"model": Ready, "description": "Not ready: the index is empty or the store is unreachable."}}


@router.get("/readyz", response_model=Ready, responses=NOT_READY)
def readyz(request: Request):
    """Ready when the index is loaded and non-empty; 503 otherwise (empty index, store down)."""
    try:
        assistant = get_assistant(request)  # also retries a start-up that found the store down
    except HTTPException as exc:
        return JSONResponse(Ready(status="unavailable", detail=str(exc.detail)).model_dump(), status_code=503)
    if not assistant.is_ready():
        detail = "The index is empty or the vector store is unreachable: run `partnership ingest` or check the store."
        return JSONResponse(Ready(status="unavailable", detail=detail).model_dump(), status_code=503)
    return Ready(status="ready", warming=assistant.warming)
