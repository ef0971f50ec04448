"""Settings, read lazily from the environment (prefix ``COLDFLOW_``) and a ``.env`` file.

Nothing reads settings at import time: ``get_settings()`` is called by the composition roots (CLI,
``create_app``, ``worker.py``) and the result is passed down. Workflows never see settings.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from coldflow.crypto import generate_key


class Settings(BaseSettings):
    """Every knob of a coldflow process; the README's settings table mirrors this class."""

    model_config = SettingsConfigDict(
        env_prefix="COLDFLOW_", env_file=".env", extra="ignore", populate_by_name=True
    )

    env: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = Path(".data")
    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("COLDFLOW_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="SQLAlchemy URL; empty means a SQLite file in the data dir.",
    )
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    temporal_address: str = Field(
        default="", description="host:port of a Temporal frontend; empty means the embedded one."
    )
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    temporal_ui_url: str = Field(
        default="", description="Web UI base URL for journey links; empty: the embedded one."
    )
    temporal_namespace: str = "default"
    task_queue: str = "coldflow"
    secret_key: str = Field(default="", description="Fernet key for mailbox passwords.")
    public_url: str = ""
    rate_limit_per_minute: int = 60
    campaign_create_limit_per_minute: int = 10
    max_body_bytes: int = 5 * 1024 * 1024
    max_import_bytes: int = 100 * 1024 * 1024
    smtp_timeout_seconds: float = 60.0
    webhook_allow_private: bool = Field(
        default=False,
        description="Allow webhook URLs on loopback, private or link-local addresses (SSRF).",
    )
    webhook_timeout_seconds: float = 10.0
    dns_resolver: str | None = Field(
        default=None,
        description="host:port of the DNS server for sender-domain checks (default: the system's)",
    )
    dns_timeout_seconds: float = 5.0
    warmup_shared_pool: bool = Field(
        default=False,
        description="Let workspaces that opt in share one warmup pool across the installation",
    )
    warmup_spam_threshold: float = Field(
        default=0.20, gt=0, le=1, description="3-day spam rate at which warmup stops growing"
    )
    webhook_relay_poll_seconds: float = 0.5
    webhook_relay_batch: int = 100

    @field_validator("database_url")
    @classmethod
    def _use_async_driver(cls, value: str) -> str:
        """Accept the URLs people paste (postgres://, postgresql://) and pick the async driver."""
        for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://"):
            if value.startswith(prefix):
                return "postgresql+asyncpg://" + value[len(prefix) :]
        if value.startswith("sqlite://") and not value.startswith("sqlite+aiosqlite://"):
            return "sqlite+aiosqlite://" + value[len("sqlite://") :]
        return value

    @model_validator(mode="after")
    def _enforce_production_secrets(self) -> Settings:
        """Dev may generate a key into the data dir; production must be given one."""
        if self.env == "production" and not self.secret_key:
            raise ValueError("COLDFLOW_SECRET_KEY must be set when COLDFLOW_ENV=production")
        return self

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or the SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'coldflow.db').resolve()}"

    @property
    def resolved_temporal_address(self) -> str:
        """The configured frontend, or the embedded dev server on this machine."""
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def resolved_public_url(self) -> str:
        """Base of unsubscribe and tracking links; defaults to the API itself."""
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")


def resolve_secret_key(settings: Settings) -> str:
    """The configured key, or (outside production) one generated once into the data dir."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret-key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(generate_key())
        path.chmod(0o600)
    return path.read_text().strip()


@functools.lru_cache
def get_settings() -> Settings:
    """The process-wide settings, built on first use so tests and the CLI can override first."""
    return Settings()
