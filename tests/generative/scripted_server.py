"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 (the network edge of the chat model).

Each POST to /v1/chat/completions takes the next step of the script and records the request body. A step
is a reply (text or tool calls), an HTTP error, a stall (for timeouts), or a function of the request body
(so replies can quote the context or the tool result the backend actually sent).

A request with `"stream": true` gets the reply as server-sent events, one chunk per word (as OpenAI streams
with stream=true), `token_delay` seconds apart; `streams` records how each one went (chunks written, whether
the client went away first). `break_off(...)` scripts a stream that stops mid-reply without `[DONE]`.
"""
from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTEXT = re.compile(r'<context n="(\d+)" source="([^"]*)"[^>]*>\n(.*?)\n</context>', re.DOTALL)


def contexts(body: dict) -> dict[int, tuple[str, str]]:
    """{n: (source, text)} of the <context> blocks in the last user message of a request body."""
    user = [m for m in body["messages"] if m["role"] == "user"][-1]
    return {int(n): (source, text) for n, source, text in CONTEXT.findall(user["content"])}


def first_sentence(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s|\n", text.strip(), maxsplit=1)[0].strip()
    return sentence.rstrip(".") + "."


class ScriptedChatServer:
    """Replays scripted chat-completion responses; `requests` holds every request body received."""

    def __init__(self):
        self.script: deque[Callable[[dict], tuple[int, dict]]] = deque()
        self.requests: list[dict] = []
        self.paths: list[str] = []
        self.release = threading.Event()  # set at shutdown so stalled handlers finish
        self._ids = itertools.count(1)
        self.token_delay = 0.0
        self.streams: list[dict] = []  # {"chunks": written, "total": planned, "disconnected": bool, "done": bool}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server naming)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.paths.append(self.path)
                server.requests.append(body)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    status, payload = 404, {"error": {"message": f"no route {self.path}"}}
                elif not server.script:
                    status, payload = 500, {"error": {"message": "script exhausted: the test did not expect this request"}}
                else:
                    status, payload = server.script.popleft()(body)
                if status == 200 and body.get("stream"):
                    server._send_stream(self, body, payload)
                    return
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                    pass

            def log_message(self, *args):  # keep test output quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _send_stream(self, handler: BaseHTTPRequestHandler, body: dict, payload: dict) -> None:
        chunks = stream_chunks(payload)
        cut = payload.get("break_after")
        record = {"chunks": 0, "total": len(chunks), "disconnected": False, "done": False}
        self.streams.append(record)
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/event-stream")
            handler.send_header("Connection", "close")
            handler.end_headers()
            for i, chunk in enumerate(chunks):
                if cut is not None and i == cut:
                    handler.wfile.flush()
                    handler.close_connection = True
                    return  # broken off: no finish_reason, no [DONE]
                handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                handler.wfile.flush()
                record["chunks"] += 1
                if self.token_delay:
                    time.sleep(self.token_delay)
            handler.wfile.write(b"data: [DONE]\n\n")
            handler.wfile.flush()
            record["done"] = True
        except (BrokenPipeError, ConnectionResetError):  # the client closed the stream: generation stops
            record["disconnected"] = True
        handler.close_connection = True

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def start(self) -> "ScriptedChatServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- script steps ----------------------------------------------------------------------------
    def completion(self, body: dict, message: dict, finish: str) -> dict:
        return {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": body.get("model", "scripted"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    def say(self, content: str) -> None:
        self.compute(lambda body: content)

    def compute(self, make_content: Callable[[dict], str]) -> None:
        """Reply with text computed from the request body."""
        self.script.append(lambda body: (200, self.completion(body, {"role": "assistant", "content": make_content(body)}, "stop")))

    def call_tool(self, name: str, args: dict | str) -> None:
        """Reply with one tool call; `args` as a dict, or a raw string to send malformed JSON."""
        arguments = args if isinstance(args, str) else json.dumps(args)

        def step(body):
            call = {"id": f"call_{next(self._ids)}", "type": "function", "function": {"name": name, "arguments": arguments}}
            return 200, self.completion(body, {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls")

        self.script.append(step)

    def break_off(self, content: str | Callable[[dict], str], after: int) -> None:
        """Stream `content` but stop after `after` chunks, without a finish or [DONE] (a dropped connection)."""
        make = content if callable(content) else (lambda body: content)

        def step(body):
            payload = self.completion(body, {"role": "assistant", "content": make(body)}, "stop")
            return 200, {**payload, "break_after": after}

        self.script.append(step)

    def fail(self, status: int = 500) -> None:
        self.script.append(lambda body: (status, {"error": {"message": "scripted failure", "type": "server_error"}}))

    def stall(self, seconds: float = 20.0) -> None:
        """Answer only after `seconds` (or at shutdown): longer than the client's timeout."""

        def step(body):
            self.release.wait(seconds)
            return 200, self.completion(body, {"role": "assistant", "content": "too late"}, "stop")

        self.script.append(step)


def stream_chunks(payload: dict) -> list[dict]:
    """A chat.completion as the chat.completion.chunk objects OpenAI streams: the role, the content word by
    word (spaces kept), the tool calls, then the finish reason."""
    choice = payload["choices"][0]
    message, base = choice["message"], {k: payload[k] for k in ("id", "created", "model")}

    def chunk(delta: dict, finish: str | None = None) -> dict:
        return {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"content": word}) for word in re.findall(r"\S+\s*|\s+", message.get("content") or "")]
    for i, call in enumerate(message.get("tool_calls") or []):
        chunks.append(chunk({"tool_calls": [{"index": i, **call}]}))
    chunks.append(chunk({}, choice["finish_reason"]))
    return chunks
