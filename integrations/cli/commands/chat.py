from __future__ import annotations

import typer

from assistant.errors import AssistantError, IndexEmptyError
from assistant.models import Message
from integrations.cli.common import console, err_console, load_settings, print_answer, user_errors


def register(app: typer.Typer) -> None:
    @app.command()
    def chat() -> None:
        """Interactive chat in the terminal: type a question, get the answer with sources; /quit exits."""
        from assistant.factory import build_assistant

        with user_errors():
            assistant = build_assistant(load_settings())
            if not assistant.is_ready():
                raise IndexEmptyError()
        console.print("Ask about the partnership documents. Follow-ups keep the context. /quit to leave.")
        history: list[Message] = []
        while True:
            try:
                question = console.input("[bold cyan]you>[/] ").strip()
            except (EOFError, KeyboardInterrupt):
                break
            if question in {"/quit", "/exit", "/q"}:
                break
            if not question:
                continue
            try:
                answer = assistant.ask(question, history)
            except AssistantError as exc:
                err_console.print(str(exc), highlight=False, markup=False)
                continue
            print_answer(answer)
            history += [Message(role="user", content=question), Message(role="assistant", content=answer.answer)]
