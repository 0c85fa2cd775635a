"""What a stored rating needs to reproduce its answer besides the question: who answered and which index."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from assistant.core import Assistant
from assistant.models import Answer


def answered_by(assistant: Assistant, answer: Answer | None = None) -> str:
    """"calculator" for a calculator answer, else the configured answer backend's name ("extractive", ...)."""
    if answer is not None and answer.calculation is not None:
        return "calculator"
    return assistant.backend.name


def index_marker(assistant: Assistant) -> dict[str, Any]:
    """The index marker `partnership doctor` reports: documents committed, chunks stored, last commit, model."""
    store = assistant.store
    committed, stored = store.marker()
    newest = store.newest_commit()
    return {
        "documents": committed,
        "chunks": stored,
        "last_commit": datetime.fromtimestamp(newest / 1e9, timezone.utc).isoformat(timespec="seconds") if newest else None,
        "model": str(store.recorded_model()),
    }
