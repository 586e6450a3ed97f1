"""Where the project's parts are: the one place that knows the repository's layout."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The repository root (where `mkdocs.yml` is)."""
DOCS = ROOT / "docs"
"""The pages."""
SNIPPETS = ROOT / "snippets"
"""The reference service; include paths start here (pymdownx.snippets' `base_path`)."""
SERVICE_TESTS = SNIPPETS / "tests"
"""The service's tests."""
SITE_TESTS = ROOT / "tests"
"""The site's tests."""
MKDOCS_YML = ROOT / "mkdocs.yml"
"""The site's configuration, read by both builders."""
TESTED_WITH = ROOT / ".record" / "tested-with.json"
"""What the last run was tested with (git-ignored; outside `.cache/`, Zensical's cache, which
`zensical build --clean` empties: record nothing there)."""
POSTGRESQL_SEEN = ROOT / ".record" / "postgresql-seen"
"""Touched each time a run records its PostgreSQL version (`guidekit.tested_with`): the build during
a run waits for it. Not the record's own time: a run also writes the record when it starts."""
POSTGRES_MATRIX = ROOT / ".record" / "postgres-matrix.json"
"""Which PostgreSQL majors the database tests passed on, and when (`scripts/postgres_matrix.py`)."""
TOOLS = ROOT / ".tools"
"""Tools the tests fetch on first use, such as the Nu Html Checker (git-ignored; not in `.cache/`,
which `zensical build --clean` empties while another test may be using what is there)."""
UPGRADE_RECORD = ROOT / ".record" / "upgrade.json"
"""What `scripts/upgrade_check.py` last found with the newest releases (git-ignored, like `TESTED_WITH`)."""
LOWEST_RECORD = ROOT / ".record" / "lowest.json"
"""What `scripts/lowest_bounds.py` last found with the service's lowest declared bounds."""
