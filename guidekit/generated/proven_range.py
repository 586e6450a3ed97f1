"""`proven-range`: the lowest and the newest release of each service dependency that a check ran with, read from
the records `scripts/lowest_bounds.py` and `scripts/upgrade_check.py` write (`.record/lowest.json`,
`.record/upgrade.json`); "not recorded" where a check has not run in this tree."""

import json
import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from guidekit.generated.tables import table
from guidekit.paths import LOWEST_RECORD, ROOT, UPGRADE_RECORD

WHAT_RAN = {
    "lowest": ("Lowest bounds", "the service's tests and type check", "scripts/lowest_bounds.py"),
    "newest": ("Newest releases", "the whole suite", "scripts/upgrade_check.py"),
}


def read(record: Path) -> dict[str, Any] | None:
    """A check's record, or None when the check has not run here."""
    if not record.is_file():
        return None
    loaded: dict[str, Any] = json.loads(record.read_text(encoding="utf-8"))
    return loaded


def verdict(kind: str, record: dict[str, Any] | None) -> str:
    """One line: which check, passed or failed on which day, and what failed."""
    title, suite, script = WHAT_RAN[kind]
    if record is None:
        return f"- {title}: **not recorded**: run `uv run python {script}`, then build the site again"
    day = record["checked_at"][:10]
    if record["result"] == "passed":
        return f"- {title}: {suite} passed on {day} (commit `{record['commit'][:10]}`)"
    named = [f"{name}>={floor} (the lowest that resolves: {low})" for name, floor, low in record.get("unreached", [])]
    named += record.get("suspects", [])
    failing = len(record.get("failures", []))
    return f"- {title}: **failed** on {day}: {failing} failing check(s); named: {', '.join(named) or 'no package'}"


def cell(record: dict[str, Any] | None, name: str) -> str:
    """The version a check ran a package at; marked when that check failed."""
    if record is None:
        return "not recorded"
    version = str(record.get("versions", {}).get(name, "not locked"))
    return version if record["result"] == "passed" else f"{version} (failed)"


def generate(args: list[str], root: Path) -> str:
    """The two verdicts and, per runtime dependency of the service, the lowest and newest release tested."""
    lowest = read(root / LOWEST_RECORD.relative_to(ROOT))
    newest = read(root / UPGRADE_RECORD.relative_to(ROOT))
    declared = tomllib.loads((root / "snippets" / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [Requirement(line).name for line in declared["dependencies"]]
    rows = [(f"`{name}`", cell(lowest, name), cell(newest, name)) for name in names]
    verdicts = "\n".join([verdict("lowest", lowest), verdict("newest", newest)])
    return verdicts + "\n\n" + table(rows, ("Package", "Lowest tested", "Newest tested"))
