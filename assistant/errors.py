"""Domain errors. Adapters turn them into exit codes, HTTP statuses or Slack messages."""


class AssistantError(Exception):
    """Base class for errors the user can act on."""


class QuestionError(AssistantError, ValueError):
    """The question itself is unusable (empty, too long)."""


class IndexEmptyError(AssistantError):
    """Nothing has been ingested yet."""

    def __init__(self, message: str = "The index is empty: run `partnership ingest` first."):
        super().__init__(message)


class StoreUnavailableError(AssistantError):
    """The vector store (e.g. a Chroma server) cannot be reached."""


class IngestError(AssistantError):
    """A single file could not be ingested; the message says why."""


class CalculationError(AssistantError, ValueError):
    """Calculator inputs are invalid; the message names the problem and the accepted values."""
