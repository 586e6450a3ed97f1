"""SQL: run with `psql` against the migrated test database, inside a rolled-back transaction.

A migration shown inline (`-- migrate:up` / `-- migrate:down`) runs its up part, then its
down part, so both directions are proven. Included migrations and schema (files under
`snippets/db/`) are applied by dbmate in the service tests, so they are not run again here.
"""

import re
import subprocess

from sqlalchemy import URL

from guidekit.guard.checker import Checker, Context, FenceError, Shown
from guidekit.guard.tools import require_tool

TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION)\b", re.IGNORECASE | re.MULTILINE)


def psql_conninfo(database_url: URL) -> str:
    """A libpq connection string for a dbmate-style URL (`socket=` becomes `host=`)."""
    parts = {"dbname": database_url.database, "user": database_url.username}
    socket = database_url.query.get("socket")
    parts["host"] = str(socket) if socket else (database_url.host or "127.0.0.1")
    if database_url.port:
        parts["port"] = str(database_url.port)
    if database_url.password:
        parts["password"] = database_url.password
    return " ".join(f"{key}='{value}'" for key, value in parts.items() if value)


def run_sql(sql: str, database_url: URL) -> None:
    """Run SQL in one transaction that is rolled back; raises RuntimeError with psql's message when it fails."""
    script = f"BEGIN;\n{sql.rstrip()}\n;\nROLLBACK;\n"
    completed = subprocess.run(
        [require_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-P", "pager=off", psql_conninfo(database_url)],
        input=script,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr.strip() or completed.stdout.strip())


def check(shown: Shown, context: Context) -> str:
    """Run a SQL fence against the migrated schema (included migrations are the service tests' to apply)."""
    if shown.region and shown.region.path.resolve().is_relative_to((context.snippets / "db").resolve()):
        return "migrations and schema, applied and checked by the service tests"
    if TRANSACTION_CONTROL.search(shown.text):
        raise FenceError(
            f"{shown.where}: sql block controls its own transaction; the guard wraps each block in one "
            "that it rolls back, so show the statements without BEGIN/COMMIT"
        )
    up, marker, down = shown.text.partition("-- migrate:down")
    database_url: URL = context.fixture("guard_database_url")
    try:
        run_sql(up + ("\n" + down if marker else ""), database_url)
    except RuntimeError as error:
        raise FenceError(f"{shown.where}: this SQL fails against the migrated test database:\n{error}") from None
    return "ran in a rolled-back transaction"


CHECKER = Checker(frozenset({"sql", "sql-include"}), check)
