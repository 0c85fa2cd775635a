"""ASGI middleware: a request id on every response and log line, and the request body size limit."""
from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("partnership.http")

REQUEST_ID_HEADER = "X-Request-ID"
INTERNAL_ERROR = "Internal server error; quote the request id when reporting it."
# A caller-supplied id is kept (so a proxy's id threads through) only if it is short and plain.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def send_json(send: Send, status: int, payload: dict, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps(payload).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": body})


class RequestIdMiddleware:
    """Gives each request an id (`request.state.request_id`), echoes it in `X-Request-ID`, logs one line."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _SAFE_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", []))
                if not any(key.lower() == b"x-request-id" for key, _ in headers):
                    headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if response_started:
                raise
            # Answered here rather than by Starlette's outer error middleware, which re-raises into
            # uvicorn: that would drop the keep-alive connection and log the traceback without the id.
            log.exception("request_id=%s unhandled error", request_id)
            status = 500
            await send_json(send, 500, {"error": INTERNAL_ERROR, "request_id": request_id},
                            [(b"x-request-id", request_id.encode())])
        finally:
            client = scope.get("client")
            log.info(
                "request_id=%s %s %s status=%s duration_ms=%.1f client=%s",
                request_id, scope["method"], scope["path"], status,
                (time.perf_counter() - started) * 1000, client[0] if client else "-",
            )


class BodySizeLimitMiddleware:
    """Refuses request bodies over `max_bytes` with 413, before the app parses anything.

    The body is read (up to the limit) and replayed to the app, so a client that lies in
    Content-Length or streams a chunked body is caught too.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, path_limits: dict[str, int] | None = None):
        self.app = app
        self.default_max_bytes = max_bytes
        self.path_limits = dict(path_limits or {})  # routes mounted by the launcher with their own limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.path_limits.get(scope.get("path", ""), self.default_max_bytes)
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._too_large(scope, send, max_bytes)
            return
        if declared is None and _header(scope, b"transfer-encoding") is None:
            await self.app(scope, receive, send)  # no body
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                await self._too_large(scope, send, max_bytes)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, send: Send, max_bytes: int) -> None:
        request_id = scope.get("state", {}).get("request_id")
        limit_kb = max_bytes // 1024
        await send_json(send, 413, {"error": f"The request body is larger than {limit_kb} KB.", "request_id": request_id})
