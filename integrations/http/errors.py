"""Domain errors and framework errors become JSON `{"error", "request_id"}` responses here, and only here."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import (
    AssistantError,
    CalculationError,
    IndexEmptyError,
    QuestionError,
    StoreUnavailableError,
)
from assistant.feedback import FeedbackError
from assistant.partnerships import UnknownPartnership
from integrations.http.middleware import INTERNAL_ERROR

log = logging.getLogger("partnership.http")

# Which HTTP status each domain error means; the first match in order wins (subclasses first).
DOMAIN_STATUS: list[tuple[type[Exception], int]] = [
    (QuestionError, 422),
    (CalculationError, 422),
    (FeedbackError, 422),
    (IndexEmptyError, 503),
    (StoreUnavailableError, 503),
    (AssistantError, 422),
]


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_response(request: Request, status: int, message: str, headers: dict | None = None, **extra) -> JSONResponse:
    body = {"error": message, "request_id": request_id(request), **extra}
    headers = dict(headers or {})
    if request_id(request):
        # Responses built outside RequestIdMiddleware (the 500 handler) still carry the id.
        headers.setdefault("X-Request-ID", request_id(request))
    return JSONResponse(body, status_code=status, headers=headers)


def describe_validation(exc: RequestValidationError) -> tuple[str, list[dict]]:
    """One readable sentence per problem, e.g. "rating: Input should be 'up' or 'down'"."""
    details, sentences = [], []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if part != "body"]
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "invalid JSON")
            sentence = f"Malformed JSON body: {reason}."
        elif not loc and err.get("type") in ("model_attributes_type", "dict_type"):
            sentence = "The body must be a JSON object, sent with 'Content-Type: application/json'."
        else:
            sentence = f"{'.'.join(loc) or 'body'}: {err.get('msg', 'invalid value')}"
        sentences.append(sentence)
        details.append({"loc": loc, "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))})
    return "; ".join(sentences) or "Invalid request.", details


def _undecodable(cause: ValueError) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return f"not UTF-8 (byte 0x{cause.object[cause.start]:02x} at position {cause.start})"
    return str(cause)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, details = describe_validation(exc)
        return error_response(request, 422, message, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            # FastAPI answers 400 "There was an error parsing the body" when json.loads fails with
            # something other than a JSONDecodeError (a body that is not UTF-8); to a client that is
            # malformed JSON like any other, so it gets the same 422.
            return error_response(request, 422, f"Malformed JSON body: {_undecodable(exc.__cause__)}.")
        return error_response(request, exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(AssistantError)
    async def domain_error(request: Request, exc: AssistantError) -> JSONResponse:
        status = next(code for kind, code in DOMAIN_STATUS if isinstance(exc, kind))
        extra = {"missing": exc.missing} if isinstance(getattr(exc, "missing", None), list) else {}
        return error_response(request, status, str(exc), **extra)

    @app.exception_handler(UnknownPartnership)
    async def unknown_partnership(request: Request, exc: UnknownPartnership) -> JSONResponse:
        return error_response(request, 422, str(exc), valid=exc.valid)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # Last resort (RequestIdMiddleware answers errors from the routes): no traceback to the client.
        log.error("request_id=%s unhandled %s", request_id(request), type(exc).__name__, exc_info=exc)
        return error_response(request, 500, INTERNAL_ERROR)
