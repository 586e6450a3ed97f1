"""The run's half of the proof links: each test a page names as a proof ran and passed.

The build checks that a named test exists (`hooks/proof_links.py`); only the run can say that
it passed. The controller records every test's outcome by function name (all parameters and
every module defining the name count), then checks the named ones.
"""

import pytest

OUTCOMES: dict[str, set[str]] = {}


def function_name(nodeid: str) -> str:
    """`snippets/tests/x.py::TestY::test_z[param]` -> `test_z`."""
    return nodeid.split("[")[0].split("::")[-1]  # a parameter id may hold `::` itself


class Recorder:
    """Registered as a plugin, so it sees every report: a conftest's hooks see only its folder's
    tests when pytest runs without workers."""

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record(report)


def record(report: pytest.TestReport) -> None:
    """Note a report's outcome: a failed setup or teardown fails the test, a skipped setup skips it."""
    if report.when == "call" or report.outcome != "passed":
        OUTCOMES.setdefault(function_name(report.nodeid), set()).add(report.outcome)


def unproven(naming: dict[str, list[str]], outcomes: dict[str, set[str]], whole_run: bool) -> list[str]:
    """The named tests that are no proof in this run: failed, skipped, or (in the whole run) not run."""
    problems = []
    for name, pages in sorted(naming.items()):
        where = ", ".join(pages)
        seen = outcomes.get(name, set())
        if "failed" in seen:
            problems.append(f"`{name}` is named as a proof on {where} but failed in this run")
        elif "skipped" in seen:
            problems.append(f"`{name}` is named as a proof on {where} but was skipped in this run")
        elif not seen and whole_run:
            problems.append(
                f"`{name}` is named as a proof on {where} but did not run; is it collected (a test_*.py module)?"
            )
    return problems
