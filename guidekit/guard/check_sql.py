"""SQL: run with `psql` against the migrated test database, inside a rolled-back transaction.

A block followed by an output block (`<!-- guard: output -->`) has psql's printed result
compared with it. A migration shown inline (`-- migrate:up` / `-- migrate:down`) runs
its up part, then its down part, so both directions are proven.
"""

import re
import subprocess

from sqlalchemy import URL

from guidekit.guard.errors import FenceError
from guidekit.guard.tools import require_tool
from guidekit.markdown.fences import Fence

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


def run_sql(sql: str, database_url: URL) -> str:
    """Run SQL in one transaction that is rolled back; returns what psql printed."""
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
    return completed.stdout


def check_sql(fence: Fence, database_url: URL) -> str:
    """Run a SQL fence against the migrated schema; compare its result when one is shown."""
    sql = fence.body
    if TRANSACTION_CONTROL.search(sql):
        raise FenceError(
            f"{fence.where}: sql block controls its own transaction; the guard wraps each block in one "
            "that it rolls back, so show the statements without BEGIN/COMMIT"
        )
    up, marker, down = sql.partition("-- migrate:down")
    try:
        printed = run_sql(up + ("\n" + down if marker else ""), database_url)
    except RuntimeError as error:
        raise FenceError(f"{fence.where}: this SQL fails against the migrated test database:\n{error}") from None
    if fence.output is not None:
        if _normalized(printed) != _normalized(fence.output.body):
            raise FenceError(
                f"{fence.output.where}: the result shown differs from what PostgreSQL returns:\n"
                f"--- shown\n{fence.output.body}--- returned\n{printed}"
            )
        return "ran; result checked"
    return "ran in a rolled-back transaction"


def _normalized(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()]
