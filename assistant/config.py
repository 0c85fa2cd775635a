"""One Settings object owns every knob; read from PARTNERSHIP_* environment variables."""
from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


SLACK_API_URL = "https://slack.com/api/"  # slack_sdk's WebClient.BASE_URL; assistant/ does not import slack_sdk


class Settings(BaseSettings):
    """Configuration of the assistant and its adapters.

    Every field can be set as ``PARTNERSHIP_<FIELD>`` (e.g. ``PARTNERSHIP_DATA_DIR``).
    """

    # hide_input_in_errors: a refused token or key must not be echoed back in the error message.
    model_config = SettingsConfigDict(env_prefix="PARTNERSHIP_", extra="ignore", hide_input_in_errors=True)

    data_dir: Path = Field(Path(".partnership"), description="Where the index, manifest and feedback live.")
    corpus_dir: Path = Field(Path("corpus"), description="Default folder ingested by `partnership ingest`.")
    glossary: Path | None = Field(None, description="Domain glossary (groups of terms that mean the same); unset means glossary.yaml in the corpus folder.")
    collection: str = Field("partnership", description="Chroma collection name.")
    chroma_host: str | None = Field(None, description="Use a Chroma server at this host instead of the embedded store.")
    chroma_port: int = Field(8000, description="Port of the Chroma server.")
    embedding_model: Path | None = Field(
        None,
        description="A local sentence-transformers model directory to embed with instead of the bundled "
                    "all-MiniLM-L6-v2 (loaded by path only, never downloaded); changing it needs `partnership ingest --rebuild`.",
    )
    encoder_dir: Path | None = Field(
        None,
        description="Where the embedding model's ONNX export is made and kept; unset means `encoders/` in the data "
                    "dir. Several data dirs (or test runs) can share one: each export is named by its model's sha256.",
    )
    hnsw_ef: int = Field(400, ge=10, description="HNSW ef_construction, and ef_search up to 10,000 vectors (it grows beyond: assistant/store.py search_ef). Chroma's default ef missed hits on small collections.")
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW max_neighbors (M) of a new collection; an existing one keeps its own (assistant/store.py explains the choice).")

    top_k: int = Field(6, ge=1, le=50, description="Chunks handed to the answerer.")
    decline_threshold: float = Field(0.3, description="Below this evidence score the assistant declines instead of answering.")
    max_question_chars: int = Field(2000, ge=1)
    warm_sentences: bool = Field(True, description="serve and slack embed every quotable sentence in the background at start, so no answer pays for it.")
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are refused by ingest before being read.")
    ingest_lease_seconds: float = Field(
        60.0, gt=0, description="With a Chroma server: how long an ingest's lease on the store lasts without renewal "
                                "(renewed every third of it); another ingest may take over only after it expires.",
    )

    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint; unset means the extractive answerer.")
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 30.0
    llm_tools: bool = Field(True, description="Let the chat model call the funding calculator as a native tool; false when the model has no tool calling (the deterministic calculator router answers instead).")

    api_keys: str | None = Field(None, description="Comma-separated bearer keys for the HTTP API; unset means open, bound to 127.0.0.1.")
    rate_limit_per_minute: int = Field(30, ge=1, description="HTTP requests per client per minute.")
    slack_rate_limit_per_minute: int = Field(10, ge=1, description="Slack questions per user per minute.")
    max_body_kb: int = Field(64, ge=1, description="Largest HTTP request body, in KB (1 KB = 1024 bytes); larger ones get 413.")
    store_retry_seconds: float = Field(
        5.0, gt=0, description="serve: after the assistant failed to start (e.g. the Chroma server is down), "
                               "wait at least this long before a request tries to build it again.",
    )
    llm_cooldown_seconds: float = Field(
        30.0, ge=0, description="After the chat model timed out or refused the connection, skip it for this long "
                                "(answers are extractive meanwhile) instead of making every request wait for it.",
    )

    # Slack keeps its own standard variable names (no PARTNERSHIP_ prefix).
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token"),
        description="Bot User OAuth Token (xoxb-…); both Slack modes.",
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token"),
        description="App-level token with connections:write (xapp-…); Socket Mode.",
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret"),
        description="Verifies that requests to /slack/events come from Slack; HTTP mode.",
    )
    slack_api_url: str = Field(
        SLACK_API_URL, validation_alias=AliasChoices("SLACK_API_URL", "slack_api_url"),
        description="Base URL of the Slack Web API (a proxy, or a local mock API in tests).",
    )

    @field_validator("chroma_host", "embedding_model", "encoder_dir", "llm_base_url", "llm_model", "llm_api_key", "api_keys", mode="before")
    @classmethod
    def _blank_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_bot_token", "slack_app_token", "slack_signing_secret", mode="before")
    @classmethod
    def _stripped_secret(cls, value):
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_kind(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-'.")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_kind(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("SLACK_APP_TOKEN must be an app-level token starting with 'xapp-'.")
        return value

    @field_validator("slack_api_url", mode="before")
    @classmethod
    def _api_url(cls, value):
        """Blank means Slack's own; the SDK joins method names onto it, so it ends with '/'."""
        value = (value or "").strip() if isinstance(value, str) or value is None else value
        if not value:
            return SLACK_API_URL
        return value if value.endswith("/") else value + "/"

    @property
    def glossary_path(self) -> Path:
        return self.glossary or self.corpus_dir / "glossary.yaml"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def lexical_dir(self) -> Path:
        """The BM25 index of each index version, kept so a restart does not rebuild it (assistant/lexical_cache.py)."""
        return self.data_dir / "lexical"

    @property
    def encoders_path(self) -> Path:
        """Where the embedding model's ONNX export lives (assistant/onnx_export.py), made once from its weights."""
        return self.encoder_dir or self.data_dir / "encoders"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.json"

    @property
    def feedback_db(self) -> Path:
        return self.data_dir / "feedback.sqlite3"

    @property
    def max_body_bytes(self) -> int:
        return self.max_body_kb * 1024

    @property
    def api_key_list(self) -> list[str]:
        return [k.strip() for k in (self.api_keys or "").split(",") if k.strip()]
