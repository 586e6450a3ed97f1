"""What the run was tested with: the site records the PostgreSQL version its run really used.

A pytest plugin of the site's runs (the root `conftest.py` registers it; the service's own runs
never load it, so the service writes nothing outside `snippets/`). In the first test of a worker
that uses the migrated database anyway, it asks that server for its version and records it in
`.record/tested-with.json`, which the Stack page states (`guidekit.generated`). The record is
changed under a lock and written whole, then renamed (`guidekit.run_record`): parallel workers and
a build reading it never see half a file, and the pages' runs in it stay.
"""

import subprocess
from datetime import UTC, datetime

import pytest
from sqlalchemy import URL

from guidekit import run_record
from guidekit.guard.check_sql import psql_conninfo
from guidekit.guard.tools import require_tool
from guidekit.paths import POSTGRESQL_SEEN, ROOT


def server_version(database_url: URL) -> str:
    """`SHOW server_version` of the server behind a database URL (dbmate's form), asked with psql."""
    completed = subprocess.run(
        [require_tool("psql"), "-X", "-A", "-t", "-c", "SHOW server_version", psql_conninfo(database_url)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"psql could not ask the test server its version:\n{completed.stderr}")
    return completed.stdout.strip()


def write_record(version: str) -> None:
    """Record the version, today's date and the moment, keeping the rest of the record (`guidekit.run_record`)."""
    moment = datetime.now(UTC)
    seen = {
        "postgresql": version,
        "recorded_at": moment.date().isoformat(),
        "postgresql_at": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    run_record.update(ROOT, lambda recorded: recorded.update(seen))
    POSTGRESQL_SEEN.touch()  # after the record: a build waiting for it reads the version


@pytest.fixture(scope="session")
def tested_postgresql(database_url: URL) -> str:
    """The version of the PostgreSQL this run's tests use, recorded once per worker."""
    version = server_version(database_url)
    write_record(version)
    return version


@pytest.fixture(autouse=True)
def record_tested_postgresql(request: pytest.FixtureRequest) -> None:
    """Record the version in the first test that uses the migrated database anyway."""
    if "database_url" in request.fixturenames:
        request.getfixturevalue("tested_postgresql")
