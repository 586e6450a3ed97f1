"""`stack-versions`: the constraints in both `pyproject.toml` files, the installed versions, the
PostgreSQL version the last test run used (`.record/tested-with.json`, by `guidekit.tested_with`),
and the PostgreSQL majors the database tests passed on (`.record/postgres-matrix.json`, by
`scripts/postgres_matrix.py`)."""

import json
import platform
import tomllib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from guidekit.generated.tables import table
from guidekit.paths import POSTGRES_MATRIX, ROOT, TESTED_WITH
from guidekit.postgres_matrix import COMMAND, SOURCES, read_matrix

MERMAID_VENDOR = ROOT / "vendor"


def requirement_rows(pyproject: Path, groups: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    """`(package, constraint, installed)` for each requirement a pyproject declares."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    declared = list(data["project"]["dependencies"])
    for group in groups:
        declared += data.get("dependency-groups", {}).get(group, [])
    rows = []
    for line in declared:
        requirement = Requirement(line)
        if not requirement.specifier:
            continue  # a path dependency (the reference service itself) has no version to state
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        # The constraint as written (`>=0.34,<1`), not re-ordered by `packaging`.
        constraint = line.split("]")[-1] if "[" in line else line[len(requirement.name) :]
        rows.append((requirement.name, constraint.strip(), installed))
    return rows


def tested_postgresql() -> str:
    """The server version the last test session recorded, or a clear note that there is none."""
    if not TESTED_WITH.is_file():
        return "**not recorded**: run `uv run pytest`, then build the site again"
    recorded = json.loads(TESTED_WITH.read_text(encoding="utf-8"))
    if "postgresql" not in recorded:  # only runs that used no database (`guidekit.run_record`)
        return "**not recorded**: run `uv run pytest`, then build the site again"
    return f"{recorded['postgresql']} (tests of {recorded['recorded_at']})"


def _listed(words: list[str]) -> str:
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def postgres_row(record: Path = POSTGRES_MATRIX) -> tuple[str, str, str]:
    """The PostgreSQL row: the supported majors, and the versions the matrix's last runs passed and failed on."""
    supported = f"{min(SOURCES)} to {max(SOURCES)}"
    majors = read_matrix(record)
    if not majors:
        matrix = f"**no matrix recorded**: run `{COMMAND}`, then build the site again"
    else:
        parts = []
        for outcome in ("passed", "failed"):
            runs = [f"{run['version']} ({run['date']})" for run in majors.values() if run["result"] == outcome]
            if runs:
                parts.append(f"database tests {outcome} on {_listed(runs)}")
        matrix = "; ".join(parts)
    return ("PostgreSQL", supported, f"{matrix}; the full run: {tested_postgresql()}")


def mermaid_version() -> str:
    """The version of the vendored mermaid bundle, from its folder name."""
    folders = sorted(path.name for path in MERMAID_VENDOR.glob("mermaid-*") if path.is_dir())
    return folders[-1].removeprefix("mermaid-") if folders else "not vendored"


def generate(args: list[str], root: Path) -> str:
    """The version tables of the stack page, from the `pyproject.toml` files of the project at `root`."""
    header = ("Package", "Constraint", "Tested with")
    service = [
        (f"`{name}`", f"`{spec}`", version)
        for name, spec, version in requirement_rows(root / "snippets" / "pyproject.toml")
    ]
    tooling = [
        (f"`{name}`", f"`{spec}`", version)
        for name, spec, version in requirement_rows(root / "pyproject.toml", groups=["dev"])
    ]
    python_constraint = tomllib.loads((root / "snippets" / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "requires-python"
    ]
    platform_rows = [
        ("Python", f"`{python_constraint}`", platform.python_version()),
        postgres_row(),
        ("mermaid (vendored; draws the diagrams ahead of time)", "11.x", mermaid_version()),
    ]
    return "\n\n".join(
        [
            "### Platform\n\n" + table(platform_rows, header),
            "### Service runtime\n\nFrom `snippets/pyproject.toml`.\n\n" + table(service, header),
            "### Site and test tooling\n\nFrom the root `pyproject.toml`.\n\n" + table(tooling, header),
        ]
    )
