"""A local stand-in for the Slack Web API (the unreachable network edge in tests).

It answers the methods the bot uses, keeps posted messages so `conversations.replies` returns real
thread history, and records every call with its payload. `response_url` posts go to `/response/<id>`.
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM_ID = "T0000001"


@dataclass
class Call:
    method: str  # e.g. "chat.postMessage", or "response_url"
    payload: dict
    path: str


@dataclass
class MockSlack:
    """State of the fake workspace; `url` is the Web API base URL for WebClient(base_url=...)."""

    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[dict]] = field(default_factory=dict)  # channel -> messages
    errors: dict[str, str] = field(default_factory=dict)  # method -> error returned once
    socket_url: str = ""  # what apps.connections.open hands out (a MockSocketMode server)
    url: str = ""
    base: str = ""
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Condition = field(default_factory=threading.Condition)

    # -- fixtures for tests ------------------------------------------------------------------
    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def add_message(self, channel: str, text: str, user: str = "UHEAD001", thread_ts: str | None = None,
                    **extra) -> dict:
        """A message a person wrote (as Slack would store it); returns it with its ts."""
        message = {"type": "message", "user": user, "text": text, "ts": self.next_ts(), **extra}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self._lock:
            self.messages.setdefault(channel, []).append(message)
        return message

    def response_url(self, name: str = "1") -> str:
        return f"{self.base}/response/{name}"

    def of(self, method: str) -> list[dict]:
        with self._lock:
            return [c.payload for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[dict]:
        """Block until `count` calls of `method` were recorded; their payloads."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c.payload for c in self.calls if c.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(f"expected {count} × {method}, got {len(found)}; calls: {seen}")
                self._lock.wait(left)

    def settle(self, quiet: float = 0.5) -> None:
        """Wait until no call has arrived for `quiet` seconds (to assert that nothing more happens)."""
        while True:
            with self._lock:
                before = len(self.calls)
            time.sleep(quiet)
            with self._lock:
                if len(self.calls) == before:
                    return

    # -- the fake API --------------------------------------------------------------------------
    def record(self, method: str, payload: dict, path: str) -> None:
        with self._lock:
            self.calls.append(Call(method, payload, path))
            self._lock.notify_all()

    def api(self, method: str, payload: dict) -> dict:
        error = self.errors.pop(method, None)
        if error:
            return {"ok": False, "error": error}
        if method == "auth.test":
            return {"ok": True, "url": "https://example.slack.com/", "team": "Schools", "user": "partnership",
                    "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}
        if method == "chat.postMessage":
            message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": payload.get("text", ""),
                       "blocks": payload.get("blocks") or [], "ts": self.next_ts()}
            if payload.get("thread_ts"):
                message["thread_ts"] = payload["thread_ts"]
            with self._lock:
                self.messages.setdefault(payload["channel"], []).append(message)
            return {"ok": True, "channel": payload["channel"], "ts": message["ts"], "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.next_ts()}
        if method == "chat.update":
            with self._lock:
                for message in self.messages.get(payload["channel"], []):
                    if message["ts"] == payload["ts"]:
                        message.update(text=payload.get("text", ""), blocks=payload.get("blocks") or [])
                        if payload.get("metadata"):  # bolt's thread context store keeps context here
                            message["metadata"] = payload["metadata"]
            return {"ok": True, "channel": payload["channel"], "ts": payload["ts"]}
        if method in ("chat.startStream", "chat.appendStream", "chat.stopStream"):
            return self._stream(method, payload)
        if method == "conversations.replies":
            with self._lock:
                thread = [m for m in self.messages.get(payload["channel"], [])
                          if m["ts"] == payload["ts"] or m.get("thread_ts") == payload["ts"]]
            return {"ok": True, "messages": sorted(thread, key=lambda m: float(m["ts"])), "has_more": False}
        if method in ("assistant.threads.setStatus", "assistant.threads.setSuggestedPrompts",
                      "assistant.threads.setTitle"):
            return {"ok": True}
        if method in ("views.open", "views.update"):
            view = {"id": f"V{next(self._ts):08d}", **(payload.get("view") or {})}
            return {"ok": True, "view": view}
        if method in ("reactions.add", "reactions.remove"):
            return {"ok": True}
        if method == "apps.connections.open" and self.socket_url:
            return {"ok": True, "url": self.socket_url}
        return {"ok": False, "error": "unknown_method"}


    def _stream(self, method: str, payload: dict) -> dict:
        """chat.startStream posts a message in the thread; appendStream/stopStream add their markdown (text or
        markdown_text chunks) to it; stopStream sets its blocks. Refuse startStream with `errors`."""
        text = payload.get("markdown_text") or "".join(
            c.get("text", "") for c in payload.get("chunks") or [] if c.get("type") == "markdown_text")
        with self._lock:
            if method == "chat.startStream":
                message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "text": text, "blocks": [],
                           "ts": self.next_ts(), "thread_ts": payload.get("thread_ts"), "streaming": True}
                self.messages.setdefault(payload["channel"], []).append(message)
                return {"ok": True, "channel": payload["channel"], "ts": message["ts"]}
            message = next((m for m in self.messages.get(payload["channel"], []) if m["ts"] == payload.get("ts")), None)
            if message is None or not message.get("streaming"):
                return {"ok": False, "error": "message_not_in_streaming_state"}
            message["text"] += text
            if method == "chat.stopStream":
                message.update(streaming=False, blocks=payload.get("blocks") or [])
            return {"ok": True, "channel": payload["channel"], "ts": message["ts"]}


def _decode(handler: BaseHTTPRequestHandler) -> dict:
    query = {k: v[0] for k, v in parse_qs(urlparse(handler.path).query).items()}
    length = int(handler.headers.get("Content-Length") or 0)
    raw = handler.rfile.read(length).decode() if length else ""
    if raw and "json" in (handler.headers.get("Content-Type") or ""):
        body = json.loads(raw)
    else:
        body = {k: v[0] for k, v in parse_qs(raw).items()}
    for key in ("blocks", "attachments", "chunks", "prompts", "metadata", "view"):  # form-encoded calls send these as JSON strings
        if isinstance(body.get(key), str):
            body[key] = json.loads(body[key])
    return {**query, **body}


def start_mock_slack() -> tuple[MockSlack, ThreadingHTTPServer]:
    """Start the fake API on 127.0.0.1 (ephemeral port) in a daemon thread."""
    state = MockSlack()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def _serve(self) -> None:
            path = urlparse(self.path).path
            payload = _decode(self)
            if path.startswith("/response/"):
                state.record("response_url", payload, path)
                self._send(200, b"ok", "text/plain")
                return
            method = path.removeprefix("/api/")
            payload["_token"] = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            state.record(method, payload, path)
            self._send(200, json.dumps(state.api(method, payload)).encode(), "application/json")

        do_GET = do_POST = _serve

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    state.base = f"http://{host}:{port}"
    state.url = f"{state.base}/api/"
    threading.Thread(target=server.serve_forever, name="mock-slack", daemon=True).start()
    return state, server


THUMBS_UP, THUMBS_DOWN = "feedback:up", "feedback:down"


def buttons(blocks: list[dict]) -> dict[str, dict]:
    """action_id -> button element (with its block_id) of a message's blocks. The two halves of Slack's
    feedback_buttons control are THUMBS_UP and THUMBS_DOWN, each as the button a click would report."""
    found = {}
    for block in blocks:
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                found[element["action_id"]] = {**element, "block_id": block.get("block_id")}
        elif block.get("type") == "context_actions":
            for element in block.get("elements", []):
                if element.get("type") != "feedback_buttons":
                    continue
                for key, half in ((THUMBS_UP, "positive_button"), (THUMBS_DOWN, "negative_button")):
                    found[key] = {"type": "feedback_buttons", "action_id": element["action_id"],
                                  "block_id": block.get("block_id"), **element[half]}
    return found


def block_text(blocks: list[dict]) -> str:
    """All visible mrkdwn text of sections and context blocks."""
    parts = []
    for block in blocks:
        if block.get("type") == "section":
            parts.append(block["text"]["text"])
        elif block.get("type") == "context":
            parts.extend(e.get("text", "") for e in block.get("elements", []))
    return "\n".join(parts)
