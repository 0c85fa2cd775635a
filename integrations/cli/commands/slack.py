from __future__ import annotations

import logging

import typer

from integrations.cli.common import console, err_console, fail, load_settings, user_errors


def register(app: typer.Typer) -> None:
    @app.command()
    def slack() -> None:
        """Run the Slack bot in Socket Mode (needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN; no public URL).

        For HTTP events instead, set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET and run `partnership serve`:
        the bot is then served at POST /slack/events. SLACK_API_URL overrides the Slack Web API URL.
        """
        from assistant import memory

        memory.for_long_running_process()  # first, before the model's and the socket client's threads allocate
        from slack_bolt.error import BoltError
        from slack_sdk.errors import SlackApiError, SlackClientError

        from assistant.factory import build_assistant, start_warming
        from integrations.slack.app import web_client
        from integrations.slack.socket import SlackConfigError, socket_mode_handler, socket_tokens

        settings = load_settings()
        # Tokens are checked before the model loads, so a typo fails in a second, not after a minute.
        try:
            bot_token, app_token = socket_tokens(settings)
            web_client(bot_token, settings).auth_test()
        except SlackConfigError as exc:
            raise fail(str(exc)) from None
        except SlackApiError as exc:
            raise fail(f"Slack rejected SLACK_BOT_TOKEN: {exc.response.get('error')}") from None
        except (SlackClientError, OSError) as exc:
            raise fail(f"cannot reach the Slack API at {settings.slack_api_url}: {exc}") from None
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        with user_errors():
            assistant = build_assistant(settings)
        start_warming(assistant, settings)
        if not assistant.is_ready():
            err_console.print("[yellow]Warning:[/] the index is empty; the bot will say so until you run "
                              "`partnership ingest`.", highlight=False)
        handler = None
        try:
            handler = socket_mode_handler(assistant, settings, bot_token=bot_token, app_token=app_token)
            console.print("Slack bot connecting in Socket Mode… (Ctrl+C stops it)", highlight=False)
            handler.start()
        except KeyboardInterrupt:
            console.print("Slack bot stopped.", highlight=False)
        except (BoltError, SlackApiError) as exc:  # e.g. an app token Slack refuses
            raise fail(f"Slack refused the connection: {exc}") from None
        except (SlackClientError, OSError) as exc:
            raise fail(f"Socket Mode connection failed: {exc}") from None
        finally:
            if handler is not None:
                handler.close()
