"""Slack bot (slack-bolt): mentions, DMs, thread follow-ups, `/partnership`, feedback buttons.

Run it with Socket Mode (`partnership slack`, see `socket.py`) or mount `http_mount.slack_router()`
on the FastAPI service for HTTP events. Both wrap the same bolt App from `app.build_slack_app`.
"""
