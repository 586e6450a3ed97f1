"""`Settings`: one database setting, two URL dialects derived from it."""

import ast
import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.celery_app import celery_config
from app.core.config import TASK_CLEANUP_SECONDS, Settings


# --8<-- [start:test_database_urls]
def test_one_database_url_serves_dbmate_and_asyncpg() -> None:
    settings = Settings(
        database_url=(
            "postgres://app:s3cret@db.internal:5432/app?sslmode=require"
        ),
        redis_url="redis://cache:6379/0",
        jwt_secret="x" * 32,
        jwt_issuer="https://auth.test/",
    )

    asyncpg_url = settings.sqlalchemy_database_url
    assert asyncpg_url.drivername == "postgresql+asyncpg"
    assert (asyncpg_url.host, asyncpg_url.port, asyncpg_url.database) == (
        "db.internal",
        5432,
        "app",
    )
    # asyncpg rejects libpq's sslmode
    assert dict(asyncpg_url.query) == {"ssl": "require"}
    assert (
        settings.dbmate_database_url
        == "postgres://app:s3cret@db.internal:5432/app?sslmode=require"
    )
    # SecretStr keeps it out of logs and tracebacks
    assert "s3cret" not in repr(settings)


# --8<-- [end:test_database_urls]


def test_unix_socket_becomes_asyncpg_host() -> None:
    settings = Settings(
        database_url="postgres://postgres@/app?socket=/run/postgresql",
        redis_url="redis://r",
        jwt_secret="x" * 32,
        jwt_issuer="https://auth.test/",
    )

    assert dict(settings.sqlalchemy_database_url.query) == {
        "host": "/run/postgresql"
    }


def test_secrets_have_no_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("JWT_ISSUER", raising=False)

    with pytest.raises(ValidationError) as error:
        Settings(_env_file=None)

    assert {e["loc"][0] for e in error.value.errors()} == {
        "database_url",
        "redis_url",
        "jwt_secret",
        "jwt_issuer",
    }


def test_settings_and_dbmate_read_env_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "DATABASE_URL="
        "postgres://app@127.0.0.1:1/from_env_file?sslmode=disable\n"
        f"REDIS_URL=redis://r\nJWT_SECRET={'x' * 32}\n"
        "JWT_ISSUER=https://auth.test/\n"
    )
    (tmp_path / "sub").mkdir()
    for name in ("DATABASE_URL", "REDIS_URL", "JWT_SECRET", "JWT_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    dbmate = shutil.which("dbmate")
    assert dbmate
    migrations = Path(__file__).resolve().parents[2] / "db" / "migrations"

    def dbmate_target() -> str:
        """The server dbmate tries to reach (none answers on ports 1 and 2)."""
        command = [dbmate, "--migrations-dir", str(migrations), "status"]
        return subprocess.run(
            command, capture_output=True, text=True, check=False
        ).stderr

    monkeypatch.chdir(tmp_path)
    assert Settings().sqlalchemy_database_url.database == "from_env_file"
    assert "127.0.0.1:1:" in dbmate_target()

    monkeypatch.setenv(
        "DATABASE_URL", "postgres://app@127.0.0.1:2/exported?sslmode=disable"
    )
    # the environment wins over .env
    assert Settings().sqlalchemy_database_url.database == "exported"
    assert "127.0.0.1:2:" in dbmate_target()

    # not the folder of the .env: neither finds it
    monkeypatch.chdir(tmp_path / "sub")
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(ValidationError):
        Settings()
    assert "DATABASE_URL" in dbmate_target()


# --8<-- [start:test_cors_settings]
@pytest.mark.parametrize(
    "origin",
    [
        "*",
        "https://app.example.com/",
        "app.example.com",
        "https://*.example.com",
    ],
)
def test_cors_origins_must_be_exact_origins(origin: str) -> None:
    with pytest.raises(ValidationError, match="cors_allow_origins"):
        Settings(
            database_url="postgres://db/app",
            redis_url="redis://r",
            jwt_secret="x" * 32,
            jwt_issuer="https://auth.test/",
            cors_allow_origins=[origin],
        )


def test_cors_origins_are_read_as_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "CORS_ALLOW_ORIGINS",
        '["https://app.example.com", "http://localhost:5173"]',
    )

    settings = Settings(
        database_url="postgres://db/app",
        redis_url="redis://r",
        jwt_secret="x" * 32,
        jwt_issuer="https://auth.test/",
    )

    assert settings.cors_allow_origins == [
        "https://app.example.com",
        "http://localhost:5173",
    ]


# --8<-- [end:test_cors_settings]


# --8<-- [start:test_auth_settings]
def test_short_jwt_secret_is_rejected_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as error:
        Settings(
            database_url="postgres://db/app",
            redis_url="redis://r",
            jwt_secret="guessable",
            jwt_issuer="https://a/",
        )

    assert error.value.errors()[0]["loc"] == ("jwt_secret",)
    assert "guessable" not in str(error.value)


# --8<-- [end:test_auth_settings]


@pytest.mark.parametrize(
    ("algorithm", "needed"), [("HS384", 48), ("HS512", 64)]
)
def test_a_jwt_secret_shorter_than_its_hash_is_rejected(
    algorithm: str, needed: int
) -> None:
    def settings(secret: str) -> Settings:
        return Settings(
            database_url="postgres://db/app",
            redis_url="redis://r",
            jwt_secret=secret,
            jwt_issuer="https://a/",
            jwt_algorithms=["HS256", algorithm],
        )

    with pytest.raises(ValidationError) as error:
        # RFC 7518 section 3.2: the key is at least as long as the hash
        settings("s" * (needed - 1))

    assert f"jwt_secret must have at least {needed} bytes" in str(error.value)
    assert "s" * (needed - 1) not in str(error.value)
    assert settings("s" * needed).jwt_algorithms == ["HS256", algorithm]


# --8<-- [start:test_visibility_timeout_rule]
@pytest.mark.parametrize(
    ("visibility_timeout", "time_limit"),
    # a shorter timeout; a longer task limit with the default timeout
    [
        (3600, 120),
        (7200, 1800),
    ],
)
def test_a_visibility_timeout_shorter_than_a_retry_wait_and_run_is_refused(
    visibility_timeout: int, time_limit: int
) -> None:
    with pytest.raises(ValidationError) as error:
        Settings(
            database_url="postgres://db/app",
            redis_url="redis://r",
            jwt_secret="x" * 32,
            jwt_issuer="https://auth.test/",
            celery_visibility_timeout_seconds=visibility_timeout,
            celery_task_time_limit_seconds=time_limit,
        )

    assert "celery_visibility_timeout_seconds" in str(error.value)
    assert "celery_task_time_limit_seconds" in str(error.value)


# --8<-- [end:test_visibility_timeout_rule]


def environment_readers(root: Path) -> list[str]:
    """`file:line name` for each read of the environment that bypasses
    `Settings`.
    """
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            ):
                names = [f"os.{node.attr}"]
            elif isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            found += [
                f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)} {name}"
                for name in names
                if name
                in {
                    "os.environ",
                    "os.getenv",
                    "os.environb",
                    "os.getenvb",
                }
                or name.startswith("dotenv")
            ]
    return found


def test_no_module_reads_the_environment_but_through_settings(
    tmp_path: Path,
) -> None:
    app = Path(__file__).resolve().parents[2] / "app"
    planted = tmp_path / "planted.py"
    planted.write_text(
        "import os\nfrom os import getenv\nfrom dotenv import"
        " load_dotenv\nos.environ.get('X')\n"
    )

    assert environment_readers(tmp_path) == [
        "planted.py:2 os.getenv",
        "planted.py:3 dotenv.load_dotenv",
        "planted.py:4 os.environ",
    ]
    assert environment_readers(app) == []


@pytest.mark.parametrize("time_limit", [5, 10])
def test_a_time_limit_that_leaves_no_soft_limit_is_refused(
    time_limit: int,
) -> None:
    """Celery reads a soft limit of 0 as none at all, and one below 0 is
    meaningless.
    """
    with pytest.raises(ValidationError) as error:
        Settings(
            database_url="postgres://db/app",
            redis_url="redis://r",
            jwt_secret="x" * 32,
            jwt_issuer="https://auth.test/",
            celery_task_time_limit_seconds=time_limit,
        )

    assert "celery_task_time_limit_seconds" in str(error.value)


def test_the_smallest_time_limit_accepted_keeps_a_soft_limit_before_it() -> (
    None
):
    settings = Settings(
        database_url="postgres://db/app",
        redis_url="redis://r",
        jwt_secret="x" * 32,
        jwt_issuer="https://auth.test/",
        celery_task_time_limit_seconds=TASK_CLEANUP_SECONDS + 1,
    )

    config = celery_config(settings)
    assert 0 < config["task_soft_time_limit"] < config["task_time_limit"]


def test_an_idempotency_wait_as_long_as_the_statement_timeout_is_refused() -> (
    None
):
    """The wait is a lock wait inside one INSERT: at statement_timeout it would
    end as a 503 instead.
    """
    with pytest.raises(ValidationError) as error:
        Settings(
            database_url="postgres://db/app",
            redis_url="redis://r",
            jwt_secret="x" * 32,
            jwt_issuer="https://auth.test/",
            idempotency_wait_seconds=10.0,
            database_statement_timeout_seconds=10.0,
        )

    assert "idempotency_wait_seconds" in str(error.value)
