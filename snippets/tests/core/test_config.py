"""`Settings`: one database setting, two URL dialects derived from it."""

import pytest
from pydantic import ValidationError

from app.core.config import Settings


# --8<-- [start:test_database_urls]
def test_one_database_url_serves_dbmate_and_asyncpg() -> None:
    settings = Settings(
        database_url="postgres://app:s3cret@db.internal:5432/app?sslmode=require",
        redis_url="redis://cache:6379/0",
    )

    asyncpg_url = settings.sqlalchemy_database_url
    assert asyncpg_url.drivername == "postgresql+asyncpg"
    assert (asyncpg_url.host, asyncpg_url.port, asyncpg_url.database) == ("db.internal", 5432, "app")
    assert dict(asyncpg_url.query) == {"ssl": "require"}  # asyncpg rejects libpq's sslmode
    assert settings.dbmate_database_url == "postgres://app:s3cret@db.internal:5432/app?sslmode=require"
    assert "s3cret" not in repr(settings)  # SecretStr keeps it out of logs and tracebacks


# --8<-- [end:test_database_urls]


def test_unix_socket_becomes_asyncpg_host() -> None:
    settings = Settings(database_url="postgres://postgres@/app?socket=/run/postgresql", redis_url="redis://r")

    assert dict(settings.sqlalchemy_database_url.query) == {"host": "/run/postgresql"}


def test_secrets_have_no_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)

    with pytest.raises(ValidationError) as error:
        Settings(_env_file=None)

    assert {e["loc"][0] for e in error.value.errors()} == {"database_url", "redis_url"}
