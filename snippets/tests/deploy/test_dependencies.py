"""The version constraints in `pyproject.toml`: each dependency has a floor and
a ceiling below its next major.
"""

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = tomllib.loads(
    (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
)
DECLARED = [
    *PYPROJECT["project"]["dependencies"],
    *PYPROJECT["dependency-groups"]["dev"],
]


def next_major(version: Version) -> Version:
    """The first release a `>=version` constraint must stop before.

    For 0.x the next major is 1.0: `>=0.120,<1` lets FastAPI's 0.x minors in,
    where a caret (`^0.104.1`) stopped at 0.105. Calendar-versioned packages
    (pytz 2026.1) get the next year.
    """
    return Version(str(version.major + 1))


@pytest.mark.parametrize(
    "line", DECLARED, ids=[Requirement(line).name for line in DECLARED]
)
def test_every_dependency_has_a_floor_and_a_ceiling_below_its_next_major(
    line: str,
) -> None:
    specifiers = {
        spec.operator: Version(spec.version)
        for spec in Requirement(line).specifier
    }

    assert set(specifiers) == {
        ">=",
        "<",
    }, f"{line}: want exactly `>=floor,<ceiling`"
    assert (
        specifiers[">="] < specifiers["<"] <= next_major(specifiers[">="])
    ), line


def test_the_rule_reads_zero_x_and_calendar_versions_as_the_stack_page_says() -> (
    None
):
    assert next_major(Version("0.120")) == Version("1")
    assert next_major(Version("0.0.24")) == Version("1")
    assert next_major(Version("0.51b0")) == Version("1")
    assert next_major(Version("5.2")) == Version("6")
    assert next_major(Version("2026.1")) == Version("2027")
