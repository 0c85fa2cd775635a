from __future__ import annotations

import typer

from assistant.models import Filters
from assistant.partnerships import resolve_partnership
from integrations.cli.common import load_settings, print_answer, print_json, user_errors


def register(app: typer.Typer) -> None:
    @app.command()
    def ask(
        question: str = typer.Argument(..., help="The question, in quotes."),
        partnership: str = typer.Option(None, "--partnership", help="Only use documents about this partnership (a whole word of its name is enough, e.g. Ealing)."),
        as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON (answer, citations, tool_calls, grounded)."),
    ) -> None:
        """Ask one question; the answer quotes the documents and lists its sources."""
        from assistant.core import validate_question
        from assistant.factory import build_assistant

        settings = load_settings()
        with user_errors():
            validate_question(question, settings.max_question_chars)
            assistant = build_assistant(settings)
            filters = None
            if partnership is not None:
                filters = Filters(partnership=resolve_partnership(partnership, assistant.documents()))
            answer = assistant.ask(question, filters=filters)
        if as_json:
            print_json(answer.model_dump())
        else:
            print_answer(answer)
