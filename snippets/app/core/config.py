"""Application settings: one typed model, read once from the environment."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import URL, make_url


# --8<-- [start:settings]
class Settings(BaseSettings):
    """Everything the service reads from its environment, validated at start-up.

    Values come from environment variables (case-insensitive) or a `.env` file.
    Secrets are `SecretStr` without defaults: a missing one stops the service at
    start-up instead of running with an empty password.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["local", "test", "staging", "production"] = "local"
    """Where the service runs; selects nothing by itself, but is sent with logs and errors."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """The lowest level written to the log."""

    database_url: SecretStr
    """The PostgreSQL URL in dbmate's form, e.g. `postgres://app:secret@db:5432/app?sslmode=disable`."""

    database_pool_size: int = Field(default=5, ge=1)
    """Connections each process keeps open."""

    database_max_overflow: int = Field(default=10, ge=0)
    """Extra connections opened under load and closed when returned."""

    database_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long a request waits for a free connection before failing."""

    readiness_timeout_seconds: float = Field(default=2.0, gt=0)
    """How long `/readyz` waits for each dependency before answering 503."""

    redis_url: SecretStr
    """The Redis URL, e.g. `redis://redis:6379/0`."""

    redis_max_connections: int = Field(default=20, ge=1)
    """Connections each process may open to Redis."""

    redis_timeout_seconds: float = Field(default=2.0, gt=0)
    """Connect and command timeout: a slow cache must not stall requests."""

    message_cache_ttl_seconds: int = Field(default=300, ge=1)
    """How long a cached message may be served after a missed invalidation."""

    message_rate_limit_per_minute: int = Field(default=60, ge=1)
    """Messages one client address may create per minute."""

    @property
    def sqlalchemy_database_url(self) -> URL:
        """The same database as an asyncpg URL for SQLAlchemy.

        dbmate speaks libpq's `sslmode` and `socket`; asyncpg rejects both and wants
        `ssl` and `host` instead, so they are renamed here rather than configured twice.
        """
        url = make_url(self.database_url.get_secret_value())
        query = dict(url.query)
        if "sslmode" in query:
            query["ssl"] = query.pop("sslmode")
        if "socket" in query:
            query["host"] = query.pop("socket")
        return url.set(drivername="postgresql+asyncpg", query=query)

    @property
    def dbmate_database_url(self) -> str:
        """The URL handed to `dbmate` (as `DATABASE_URL`), password included."""
        url = make_url(self.database_url.get_secret_value()).set(drivername="postgres")
        return url.render_as_string(hide_password=False)


@lru_cache
def get_settings() -> Settings:
    """Read the settings once per process; tests clear the cache to change them."""
    return Settings()


# --8<-- [end:settings]
