"""Included Python must run: every statement an include shows is executed by the test run.

Design. pytest-cov measures `app` and `snippets/tests` for the whole session (the report
omits `snippets/tests`, so the 100% floor still applies to `app` alone). The guard reads
that live measurement in-process (`coverage.Coverage.current().get_data()`), in a test
that the guard's conftest orders after every other test; line data written by
subprocesses (`.coverage.*` files) is merged in. For each included region it takes the
statements coverage's own parser finds in those lines (lines excluded by a pragma too) and reports any that never ran.
A partial run (`--no-cov`, or without the service tests) skips this check with a reason,
because its data cannot prove anything.

During the run, this checker's verdict on an included Python fence is `pending`: the region
exists, and `final_checks` settles it after the last test.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from coverage.data import CoverageData
from coverage.parser import PythonParser

from guidekit.guard.checker import Checker, Context, Shown
from guidekit.markdown.includes import Region


@dataclass(frozen=True)
class Missed:
    """Included statements that never ran."""

    region: Region
    lines: tuple[int, ...]

    def describe(self, root: Path) -> str:
        """`file:lines` with the lines grouped into ranges."""
        label = "line" if len(self.lines) == 1 else "lines"
        return f"{self.region.path.relative_to(root)} {label} {format_ranges(self.lines)}"


def format_ranges(numbers: Iterable[int]) -> str:
    """`3-5, 9` for [3, 4, 5, 9]."""
    ranges: list[list[int]] = []
    for number in sorted(numbers):
        if ranges and number == ranges[-1][-1] + 1:
            ranges[-1].append(number)
        else:
            ranges.append([number])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in ranges)


def saved_data(directory: Path) -> list[CoverageData]:
    """Coverage data files that subprocesses wrote into a directory (`.coverage.*`)."""
    found = []
    for path in sorted(directory.glob(".coverage.*")):
        data = CoverageData(basename=str(path))
        data.read()
        found.append(data)
    return found


def executed_lines(datasets: Iterable[CoverageData]) -> dict[str, set[int]]:
    """Lines run, by absolute file name, over several coverage data sets."""
    executed: dict[str, set[int]] = {}
    for data in datasets:
        for file in data.measured_files():
            executed.setdefault(file, set()).update(data.lines(file) or ())
    return executed


@cache
def parsed(path: Path) -> PythonParser:
    """Coverage's own parser of a file, run once."""
    parser = PythonParser(filename=str(path))
    parser.parse_source()
    return parser


def statements(path: Path) -> frozenset[int]:
    """The statements coverage's own parser finds in a file (first lines of each)."""
    parser = parsed(path)
    return frozenset(parser.statements) | frozenset(parser.excluded)


def missed(region: Region, executed: dict[str, set[int]]) -> Missed | None:
    """The region's statements that never ran, or None when all did.

    Run lines are mapped to the first line of their statement, as coverage's report does: Python
    reports a wrapped `if (` by the lines of its condition, never by the `if` line.
    """
    shown = statements(region.path) & set(region.lines)
    ran = parsed(region.path).translate_lines(executed.get(str(region.path.resolve()), set()))
    never = sorted(shown - ran)
    return Missed(region, tuple(never)) if never else None


def check(_shown: Shown, _context: Context) -> str:
    """The included file and section exist (the guard resolved them); whether they ran is known at the end."""
    return "file and section exist; waiting for the run's coverage"


CHECKER = Checker(frozenset({"python-include"}), check, status="pending")
