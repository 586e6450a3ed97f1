"""Application settings: one typed model, read once from the environment."""

from functools import lru_cache
from typing import Annotated, Literal, Self

from pydantic import (
    Field,
    IPvAnyNetwork,
    SecretStr,
    StringConstraints,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import URL, make_url

# --8<-- [start:origin_type]
Origin = Annotated[str, StringConstraints(pattern=r"^https?://[^/*\s]+$")]
"""A browser origin: scheme, host and optional port; no path, no trailing
slash, no wildcard.
"""
# --8<-- [end:origin_type]

HMAC_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
"""The shortest key RFC 7518 allows for each algorithm `jwt_algorithms`
accepts: the hash's length.
"""

# --8<-- [start:visibility_rule_constants]
RETRY_CAP_SECONDS = 3600.0
"""The longest countdown before a webhook retry."""

VISIBILITY_MARGIN_SECONDS = 1800.0
"""Slack in the visibility timeout for a due retry that waits for a free pool
process.
"""
# --8<-- [end:visibility_rule_constants]

TASK_CLEANUP_SECONDS = 10
"""How long before a task's hard time limit its soft limit raises inside it, so
it can clean up.
"""


# --8<-- [start:settings]
class Settings(BaseSettings):
    """Everything the service reads from its environment, validated at
    start-up.

    Values come from environment variables (case-insensitive) or a `.env` file.
    Secrets are `SecretStr` without defaults: a missing one stops the service
    at start-up instead of running with an empty password.
    """

    # hide_input_in_errors: a rejected value may be a secret, so errors never
    # echo it
    # env_ignore_empty: `SENTRY_DSN=` means "not set" (None), not an empty DSN.
    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        hide_input_in_errors=True,
        env_ignore_empty=True,
    )

    environment: Literal["local", "test", "staging", "production"] = "local"
    """Where the service runs; selects nothing by itself, but is sent with logs
    and errors.
    """

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """The lowest level written to the log."""

    database_url: SecretStr
    """The PostgreSQL URL in dbmate's form, e.g.
    `postgres://app:secret@db:5432/app?sslmode=disable`.
    """

    database_pool_size: int = Field(default=5, ge=1)
    """Connections each process keeps open."""

    database_max_overflow: int = Field(default=10, ge=0)
    """Extra connections opened under load and closed when returned."""

    database_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long a request waits for a free connection before failing."""

    # --8<-- [start:limit_settings]
    max_request_body_bytes: int = Field(default=2_097_152, ge=1)
    """The largest request body accepted; a larger one is answered 413 before
    it is read whole.

    2 MiB holds the largest valid batch of messages, even in 4-byte UTF-8
    characters."""

    database_statement_timeout_seconds: float = Field(default=10.0, ge=0.001)
    """PostgreSQL cancels a statement of the service's that runs longer
    (`statement_timeout`, SQLSTATE 57014).
    """

    database_lock_timeout_seconds: float = Field(default=3.0, ge=0.001)
    """PostgreSQL cancels a statement that waits longer for a lock
    (`lock_timeout`, SQLSTATE 55P03).
    """

    database_idle_in_transaction_timeout_seconds: float = Field(
        default=30.0, ge=0.001
    )
    """PostgreSQL ends a session idle this long inside an open transaction
    (`idle_in_transaction_session_timeout`).
    """

    # --8<-- [end:limit_settings]

    readiness_timeout_seconds: float = Field(default=2.0, gt=0)
    """How long `/readyz` waits for each dependency before answering 503."""

    # --8<-- [start:redis_settings]
    redis_url: SecretStr
    """The Redis URL, e.g. `redis://redis:6379/0`."""

    redis_max_connections: int = Field(default=20, ge=1)
    """Connections each process may open to Redis."""

    redis_timeout_seconds: float = Field(default=2.0, gt=0)
    """Connect and command timeout: a slow cache must not stall requests."""

    message_cache_ttl_seconds: int = Field(default=300, ge=1)
    """How long a cached message may be served after a missed invalidation."""

    message_rate_limit_per_minute: int = Field(default=120, ge=1)
    """Messages one client address may create per minute; a batch larger than
    this gets 422.

    The default is above the largest batch (`MAX_PAGE_SIZE`), so a full batch
    is accepted."""

    # --8<-- [end:redis_settings]

    # --8<-- [start:auth_settings]
    jwt_secret: SecretStr = Field(min_length=32)
    """The HMAC key that signs access tokens, shared with the token issuer; at
    least 32 characters.
    """

    jwt_algorithms: list[Literal["HS256", "HS384", "HS512"]] = Field(
        default=["HS256"], min_length=1
    )
    """The only algorithms a token may name in its header; HMAC only, so a
    public key can never pose as the secret.
    """

    jwt_issuer: str
    """The `iss` every token must carry, e.g. `https://auth.example.com/`."""

    jwt_audience: str = "reference-service"
    """The `aud` every token must carry: this service's name at the issuer."""

    @model_validator(mode="after")
    def jwt_secret_fits_every_algorithm(self) -> Self:
        """RFC 7518 section 3.2: an HMAC key is at least as long as the hash,
        48 bytes for HS384, 64 for HS512.
        """
        needed = max(
            HMAC_KEY_BYTES[algorithm] for algorithm in self.jwt_algorithms
        )
        if len(self.jwt_secret.get_secret_value().encode()) < needed:
            raise ValueError(
                f"jwt_secret must have at least {needed} bytes for"
                f" {', '.join(self.jwt_algorithms)}"
            )
        return self

    # --8<-- [end:auth_settings]

    # --8<-- [start:cors_settings]
    cors_allow_origins: list[Origin] = []
    """Browser origins allowed to call the API, as JSON:
    `["https://app.example.com"]`. Empty: none.
    """

    # --8<-- [end:cors_settings]

    # --8<-- [start:observability_settings]
    service_name: str = "reference-service"
    """The name logs, errors and traces carry (OpenTelemetry's `service.name`).
    """

    release: str = "dev"
    """The build that runs, e.g. the image tag or commit SHA; set by the
    deployment.
    """

    sentry_dsn: SecretStr | None = None
    """Where Sentry events go; without it, Sentry stays off (local runs,
    tests).
    """

    sentry_sample_rate: float = Field(default=1.0, ge=0, le=1)
    """Share of errors sent to Sentry."""

    sentry_traces_sample_rate: float = Field(default=0.0, ge=0, le=1)
    """Share of requests Sentry traces; 0 because traces go to OpenTelemetry.
    """

    otel_exporter_otlp_endpoint: str | None = None
    """OTLP/HTTP collector base URL, e.g. `http://otel-collector:4318`; without
    it, traces and metrics stay off.
    """

    otel_traces_sample_rate: float = Field(default=1.0, ge=0, le=1)
    """Share of new traces recorded; a caller's sampling decision is kept."""

    otel_metric_export_interval_seconds: float = Field(default=60.0, gt=0)
    """How often the metrics are collected and sent to the OTLP endpoint."""
    # --8<-- [end:observability_settings]

    celery_visibility_timeout_seconds: int = Field(default=7200, ge=1)
    """How long Redis waits for an unacknowledged task before handing it to
    another worker.

    Longer than `RETRY_CAP_SECONDS` plus `celery_task_time_limit_seconds` plus
    `VISIBILITY_MARGIN_SECONDS` (checked at start-up), or a task still waiting
    for its countdown, or for a pool process, or still running, runs twice."""

    celery_task_time_limit_seconds: int = Field(
        default=120, gt=TASK_CLEANUP_SECONDS
    )
    """Hard limit: the worker process running a task longer than this is killed
    and replaced.

    More than `TASK_CLEANUP_SECONDS`, so the soft limit before it is above zero
    (Celery reads 0 as none)."""

    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    """How long one webhook POST may take before it counts as failed and is
    retried.
    """

    webhook_max_attempts: int = Field(default=6, ge=1)
    """Attempts per delivery, the first included, before it is marked failed.
    """

    webhook_retry_base_seconds: float = Field(default=5.0, gt=0)
    """First retry delay; each later one doubles, with full jitter, capped at
    `RETRY_CAP_SECONDS`.
    """

    webhook_allowed_private_networks: list[IPvAnyNetwork] = []
    """Non-public networks deliveries may reach anyway, as JSON:
    `["127.0.0.0/8"]` in tests.

    Empty in production: a delivery to a loopback, private or link-local
    address (a cloud metadata endpoint) is refused, however its host name
    resolves. The subscription itself is
    accepted: the address is checked when a delivery is attempted."""

    purge_soft_deleted_after_days: int = Field(default=30, ge=1)
    """Soft-deleted messages older than this are removed by the nightly beat
    task.
    """

    # --8<-- [start:idempotency_settings]
    idempotency_key_ttl_hours: int = Field(default=24, ge=1)
    """How long a client may retry a POST with the same `Idempotency-Key` and
    get the first response back.
    """

    idempotency_wait_seconds: float = Field(default=2.0, gt=0)
    """How long a request waits for another one with the same key to finish
    before answering 409.
    """
    # --8<-- [end:idempotency_settings]

    # --8<-- [start:visibility_rule]
    @model_validator(mode="after")
    def visibility_timeout_outlasts_a_retry(self) -> Self:
        """Refuse to start if Redis could hand a waiting or running task to a
        second worker.
        """
        needed = (
            RETRY_CAP_SECONDS
            + self.celery_task_time_limit_seconds
            + VISIBILITY_MARGIN_SECONDS
        )
        if self.celery_visibility_timeout_seconds <= needed:
            raise ValueError(
                "celery_visibility_timeout_seconds"
                f" ({self.celery_visibility_timeout_seconds}) must exceed"
                f" RETRY_CAP_SECONDS ({RETRY_CAP_SECONDS:g}) +"
                " celery_task_time_limit_seconds"
                f" ({self.celery_task_time_limit_seconds}) +"
                f" VISIBILITY_MARGIN_SECONDS ({VISIBILITY_MARGIN_SECONDS:g})"
            )
        return self

    # --8<-- [end:visibility_rule]

    @model_validator(mode="after")
    def idempotency_wait_ends_before_the_statement_timeout(self) -> Self:
        """Refuse a wait that `statement_timeout` would cut short: the waiting
        INSERT would be a 503, not a 409.
        """
        if (
            self.idempotency_wait_seconds
            >= self.database_statement_timeout_seconds
        ):
            raise ValueError(
                f"idempotency_wait_seconds ({self.idempotency_wait_seconds:g})"
                " must be shorter than database_statement_timeout_seconds"
                f" ({self.database_statement_timeout_seconds:g})"
            )
        return self

    @property
    def sqlalchemy_database_url(self) -> URL:
        """The same database as an asyncpg URL for SQLAlchemy.

        dbmate speaks libpq's `sslmode` and `socket`; asyncpg rejects both and
        wants `ssl` and `host` instead, so they are renamed here rather than
        configured twice.
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
        """The URL handed to `dbmate` (as `DATABASE_URL`), password
        included.
        """
        url = make_url(self.database_url.get_secret_value()).set(
            drivername="postgres"
        )
        return url.render_as_string(hide_password=False)


@lru_cache
def get_settings() -> Settings:
    """Read the settings once per process; tests clear the cache to change
    them.
    """
    return Settings()


# --8<-- [end:settings]
