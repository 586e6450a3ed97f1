"""`uv run pytest --page PAGE` verifies one page: what it selects, and a clear error for a page that is not there."""

import subprocess
import sys
from pathlib import Path

import pytest

from guidekit.page_mode import LINK_CRAWL, select

ROOT = Path(__file__).resolve().parents[1]


def test_a_page_selects_its_fences_its_browser_check_the_links_and_the_tests_behind_its_includes() -> None:
    selection = select("docs/database/soft-delete.md")

    assert selection.wants("tests/fence_guard/test_guard.py::test_fence[database/soft-delete.md:38:sql]")
    assert not selection.wants("tests/fence_guard/test_guard.py::test_fence[database/index.md:40:sql]")
    assert selection.wants("tests/browser/test_pages.py::test_page_fits_a_phone_screen[database/soft-delete.md]")
    assert not selection.wants("tests/browser/test_pages.py::test_page_fits_a_phone_screen[database/index.md]")
    assert selection.wants(LINK_CRAWL)
    # Shown on the page (tests/api/test_messaging.py:test_reuse_after_soft_delete), and using
    # what it shows (the purge methods of app/base/base_table.py and the messaging service).
    assert selection.wants("snippets/tests/api/test_messaging.py::test_soft_deleted_reference_can_be_reused")
    assert selection.wants("snippets/tests/db/test_message.py::test_purge_removes_only_rows_deleted_before_the_cutoff")
    assert not selection.wants("snippets/tests/api/test_messaging.py::test_create_returns_201_with_location")
    # The Celery module imports the messaging service, but none of its tests calls what the page shows.
    assert "snippets/tests/celery/test_deliver_webhook.py" not in selection.service_modules
    assert "snippets/tests/core/test_egress.py" not in selection.service_modules
    assert not selection.wants("tests/test_search.py::test_search_index_is_small")


@pytest.mark.parametrize("page", ["README.md", "docs/assets", "docs/database/soft-delete"])
def test_anything_but_a_page_of_docs_is_refused_naming_it(page: str) -> None:
    with pytest.raises(pytest.UsageError, match=f"--page {page}: no such page in docs/"):
        select(page)


def test_the_command_with_a_page_that_is_not_there_is_a_usage_error(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pytest", "--page", "docs/database/nowhere.md", "-p", "no:cacheprovider"]
    completed = subprocess.run(
        [*command, f"--basetemp={tmp_path / 'run'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR, completed.stdout + completed.stderr
    assert "--page docs/database/nowhere.md: no such page in docs/" in completed.stderr
