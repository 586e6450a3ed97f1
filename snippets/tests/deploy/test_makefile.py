"""The `Makefile`: every target parses and expands (`make -n`), and `make help`
lists it.
"""

import re
import subprocess
from pathlib import Path

import pytest

SERVICE_ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = (SERVICE_ROOT / "Makefile").read_text()
TARGETS = re.findall(r"^([a-z-]+):", MAKEFILE, flags=re.MULTILINE)
ARGUMENTS = {"new-migration": ["name=add_example"]}


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=SERVICE_ROOT,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("target", TARGETS)
def test_target_expands(target: str) -> None:
    completed = make("-n", target, *ARGUMENTS.get(target, []))

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip(), f"make -n {target} printed no command"


def test_every_target_is_phony_and_documented() -> None:
    declared = re.findall(r"^\.PHONY: (.+)$", MAKEFILE, flags=re.MULTILINE)
    phony = {target for line in declared for target in line.split()}
    listed = {line.split()[0] for line in make("help").stdout.splitlines()}

    assert phony == set(TARGETS)
    assert listed == set(TARGETS)


def test_new_migration_demands_a_name() -> None:
    completed = make("new-migration")

    assert completed.returncode == 2
    assert "usage: make new-migration name=" in completed.stderr
