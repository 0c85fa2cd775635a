"""The FastAPI application: one Assistant per process, JSON API, the web page, auth and limits.

`create_app()` with no arguments reads Settings from the environment, so uvicorn can use it as a
factory: `uvicorn integrations.http.app:create_app --factory`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from assistant.config import Settings
from assistant.core import Assistant
from integrations.http.deps import build_into_state, rate_limited_client
from integrations.http.errors import install_error_handlers
from integrations.http.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from integrations.http.routers import ask, calculate, documents, feedback, health, stream
from integrations.ratelimit import SlidingWindowLimiter

log = logging.getLogger("partnership.http")

STATIC_DIR = Path(__file__).parent / "static"
# The page loads only its own script and stylesheet: even if document text slipped into the DOM
# as markup, an inline <script> or onerror= handler would not run.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _default_builder(settings: Settings) -> Assistant:
    from assistant.factory import build_assistant  # loads the model: only when actually serving

    return build_assistant(settings)


def create_app(
    settings: Settings | None = None,
    assistant: Assistant | None = None,
    *,
    extra_routers: Sequence[APIRouter] = (),
    body_limits: dict[str, int] | None = None,
    builder: Callable[[Settings], Assistant] | None = _default_builder,
) -> FastAPI:
    """Build the HTTP app.

    Args:
        settings: configuration; read from PARTNERSHIP_* variables when omitted.
        assistant: an already built Assistant (tests, embedding); otherwise `builder` builds one
            at start-up, in the lifespan, once for the process.
        extra_routers: routers mounted as given, without the API-key and rate-limit guard — for
            adapters with their own authentication (the Slack events endpoint verifies signatures).
            They reach the shared objects through `request.app.state.assistant`, `.settings` and
            `.feedback` (the FeedbackStore, created on first use).
        body_limits: a larger body limit in bytes for some paths (`/slack/events` carries long messages).
        builder: how to build the Assistant when none is given.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.api_key_list:
            log.info("API keys configured: every endpoint except /, /healthz and /readyz needs a Bearer key.")
        else:
            log.warning("PARTNERSHIP_API_KEYS is not set: the API is open (unauthenticated).")
        if app.state.assistant is None and builder is not None:
            log.info("Loading the model and the index from %s ...", settings.data_dir)
            await run_in_threadpool(build_into_state, app, builder)
        if app.state.assistant is not None and not app.state.assistant.is_ready():
            log.warning("The index is empty: run `partnership ingest`; /readyz answers 503 until then.")
        yield

    app = FastAPI(
        title="Partnership Assistant",
        version="0.1.0",
        summary="Answers questions about school education partnerships from their own documents.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.assistant = assistant
    app.state.assistant_builder = builder
    app.state.assistant_error = None
    app.state.assistant_attempted = float("-inf")
    app.state.feedback = None
    app.state.limiter = SlidingWindowLimiter(settings.rate_limit_per_minute)

    # Added last = outermost: the request id exists before the size check can refuse a body.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes, path_limits=body_limits)
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)

    guarded = [Depends(rate_limited_client)]
    app.include_router(health.router)
    for area in (ask, stream, calculate, documents, feedback):
        app.include_router(area.router, dependencies=guarded)
    for router in extra_routers:
        app.include_router(router)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
