"""A local Socket Mode endpoint: the websocket Slack would open for `apps.connections.open`.

It greets the client with `hello`, lets a test push envelopes (events, slash commands) and records
what the client sends back (the envelope acknowledgements)."""
from __future__ import annotations

import json
import threading
import time

from websockets.sync.server import ServerConnection, serve


class MockSocketMode:
    def __init__(self) -> None:
        self.received: list[dict] = []
        self._connection: ServerConnection | None = None
        self._cond = threading.Condition()
        self._server = serve(self._handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link/?ticket=test"
        threading.Thread(target=self._server.serve_forever, name="mock-socket-mode", daemon=True).start()

    def _handle(self, connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1,
                                    "connection_info": {"app_id": "A0APP0001"}, "debug_info": {}}))
        with self._cond:
            self._connection = connection
            self._cond.notify_all()
        for message in connection:
            with self._cond:
                self.received.append(json.loads(message))
                self._cond.notify_all()

    def wait_connected(self, timeout: float = 15) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._connection is not None, timeout):
                raise AssertionError("the Socket Mode client never connected")

    def send(self, envelope: dict) -> None:
        self.send_raw(json.dumps(envelope))

    def send_raw(self, frame: str | bytes) -> None:
        """Any websocket frame: text (str) or binary (bytes)."""
        assert self._connection is not None
        self._connection.send(frame)

    def ack_for(self, envelope_id: str, timeout: float = 15) -> dict:
        """The client's acknowledgement of `envelope_id`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for message in self.received:
                    if message.get("envelope_id") == envelope_id:
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no ack for {envelope_id}; got {self.received}")
                self._cond.wait(left)

    def close(self) -> None:
        self._server.shutdown()
