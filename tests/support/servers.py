"""Real servers on 127.0.0.1 for tests: a free port, and an ASGI app run by uvicorn in a thread."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import uvicorn


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for a subprocess to bind, or to
    point a client at a port that refuses connections)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_in_thread(app, *, timeout: float = 60, name: str = "uvicorn-test") -> tuple[str, Callable[[], None]]:
    """Run an ASGI app with uvicorn on an ephemeral 127.0.0.1 port; returns (base URL, stop).

    The socket is bound here and handed to uvicorn, so the port is known before the server starts and
    no other process can take it in between.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(15)
        sock.close()

    return f"http://127.0.0.1:{port}", stop
