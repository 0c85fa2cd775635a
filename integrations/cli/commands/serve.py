from __future__ import annotations

import logging
import socket

import typer

from assistant.config import Settings
from integrations.cli.common import console, fail, load_settings

LOOPBACK = "127.0.0.1"


def _check_port_free(host: str, port: int) -> None:
    # uvicorn would only log "address already in use" and exit 1; say it plainly with exit 2.
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option(
            None, "--host",
            help="Interface to bind. Default 127.0.0.1 when PARTNERSHIP_API_KEYS is unset (open API), else 0.0.0.0.",
        ),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    ) -> None:
        """Start the HTTP API and web page (FastAPI + uvicorn); the index loads once at start-up."""
        from assistant import memory

        memory.for_long_running_process()  # first, before the model's and the server's threads allocate
        import uvicorn

        from integrations.http.app import create_app
        from integrations.slack.http_mount import body_limits as slack_body_limits

        settings = load_settings()
        secured = bool(settings.api_key_list)
        host = host or ("0.0.0.0" if secured else LOOPBACK)
        _check_port_free(host, port)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        # The app logs at start-up whether the API is open; an open API on a public interface is worse.
        if not secured and host not in (LOOPBACK, "localhost", "::1"):
            logging.getLogger("partnership.http").warning(
                "No PARTNERSHIP_API_KEYS and bound to %s: the open API is reachable from the network.", host)
        shown = LOOPBACK if host in ("0.0.0.0", "::") else host
        console.print(f"Partnership Assistant on http://{shown}:{port}/  (API docs: /docs)", highlight=False)
        extra = _slack_routers(settings)
        if extra:
            console.print(f"Slack events: http://{shown}:{port}/slack/events", highlight=False)
        # Our RequestIdMiddleware writes the access log (with request ids), so uvicorn's is off.
        app = create_app(settings, extra_routers=extra, body_limits=slack_body_limits() if extra else None)
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def _slack_routers(settings: Settings) -> list:
    """`POST /slack/events` when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set (Slack over HTTP)."""
    from integrations.slack.http_mount import slack_router_from_settings

    router = slack_router_from_settings(settings)
    return [router] if router is not None else []
