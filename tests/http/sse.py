"""Reading server-sent events from a real HTTP response (httpx), as a browser's EventSource parser does."""
from __future__ import annotations

import json
from collections.abc import Iterator


def read_events(response) -> Iterator[tuple[str, dict]]:
    """(event name, decoded JSON data) for each event of a `text/event-stream` response, as they arrive."""
    event, data = "message", []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield event, json.loads("\n".join(data))
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[len("event:"):].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:"):].lstrip())
