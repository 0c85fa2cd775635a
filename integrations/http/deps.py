"""FastAPI dependencies: the shared Assistant, the feedback store, API-key auth and the rate limit."""
from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.config import Settings
from assistant.core import Assistant
from assistant.errors import AssistantError
from assistant.feedback import FeedbackStore
from integrations.ratelimit import whole_seconds

log = logging.getLogger("partnership.http")

_bearer = HTTPBearer(auto_error=False, description="One of the keys in PARTNERSHIP_API_KEYS.")
_build_lock = threading.Lock()


def build_into_state(app, builder) -> None:
    """Build the Assistant into `app.state`; a store that is down leaves it None with the reason."""
    app.state.assistant_attempted = time.monotonic()
    try:
        app.state.assistant = builder(app.state.settings)
        app.state.assistant_error = None
        from assistant.factory import start_warming

        start_warming(app.state.assistant, app.state.settings)
    except AssistantError as exc:  # e.g. the Chroma server is down: serve 503s, retry later
        log.error("the assistant could not start: %s", exc)
        app.state.assistant_error = str(exc)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_assistant(request: Request) -> Assistant:
    state = request.app.state
    if state.assistant is None and state.assistant_builder is not None:
        with _build_lock:
            retry_after = state.settings.store_retry_seconds
            if state.assistant is None and time.monotonic() - state.assistant_attempted > retry_after:
                build_into_state(request.app, state.assistant_builder)
    if state.assistant is None:
        raise HTTPException(503, state.assistant_error or "The assistant is still starting.")
    return state.assistant


def get_feedback_store(request: Request) -> FeedbackStore:
    state = request.app.state
    with _build_lock:
        if state.feedback is None:
            from assistant.factory import build_feedback

            state.feedback = build_feedback(state.settings)
    return state.feedback


def authenticated_client(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The caller's rate-limit key: its API key (hashed) when keys are configured, else its IP."""
    keys = request.app.state.settings.api_key_list
    if not keys:
        return f"ip:{request.client.host if request.client else 'unknown'}"
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(401, "Missing API key: send the header 'Authorization: Bearer <key>'.", headers=challenge)
    given = credentials.credentials.encode()
    # Compare against every key in constant time so timing reveals nothing about near-misses.
    if not any(hmac.compare_digest(given, key.encode()) for key in keys):
        raise HTTPException(401, "Invalid API key.", headers=challenge)
    return "key:" + hashlib.sha256(given).hexdigest()[:16]


def rate_limited_client(request: Request, client: Annotated[str, Depends(authenticated_client)]) -> str:
    wait = request.app.state.limiter.hit(client)
    if wait is not None:
        limiter = request.app.state.limiter
        retry_after = str(whole_seconds(wait))
        raise HTTPException(
            429,
            f"Too many requests: the limit is {limiter.limit} per minute; retry in {retry_after} s.",
            headers={"Retry-After": retry_after},
        )
    return client


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
FeedbackDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
ClientDep = Annotated[str, Depends(rate_limited_client)]
