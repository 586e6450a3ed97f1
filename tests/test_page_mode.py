"""`uv run pytest --page PAGE` verifies one page: what it selects, and a clear error for a page that is not there."""

import subprocess
import sys
from pathlib import Path

import pytest

from guidekit.markdown.includes import include_targets, split_target
from guidekit.page_mode import LINK_CRAWL, select
from guidekit.paths import DOCS, ROOT


def test_a_page_selects_its_fences_its_browser_check_the_links_and_the_tests_behind_its_includes() -> None:
    selection = select("docs/database/soft-delete.md")

    assert selection.wants("tests/fence_guard/test_guard.py::test_fence[database/soft-delete.md:38:sql]")
    assert not selection.wants("tests/fence_guard/test_guard.py::test_fence[database/index.md:40:sql]")
    assert selection.wants("tests/browser/test_pages.py::test_page_fits_a_phone_screen[database/soft-delete.md]")
    assert not selection.wants("tests/browser/test_pages.py::test_page_fits_a_phone_screen[database/index.md]")
    assert selection.wants(LINK_CRAWL)
    # Shown on the page: tests/db/test_message.py; importing the package of what it shows
    # (app/base/base_table.py, app/api/messaging/service.py).
    assert "snippets/tests/db/test_message.py" in selection.service_modules
    assert "snippets/tests/api/test_messaging.py" in selection.service_modules
    # It runs the purge job through its Celery task, which no name on the page tells.
    assert "snippets/tests/celery/test_deliver_webhook.py" in selection.service_modules
    assert "snippets/tests/core/test_egress.py" not in selection.service_modules
    assert not selection.wants("tests/test_search.py::test_search_index_is_small")


@pytest.mark.parametrize("page", ["README.md", "docs/assets", "docs/database/soft-delete", "docs/../README.md"])
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


def test_a_fixture_shown_from_a_conftest_selects_the_modules_that_use_it() -> None:
    # devops/testing.md shows the service's conftest fixtures (`client`, `session`, ...).
    selection = select("docs/devops/testing.md")
    assert "snippets/tests/api/test_messaging.py" in selection.service_modules  # uses `client`


def test_every_page_that_shows_service_code_runs_some_of_its_tests() -> None:
    for page in sorted(DOCS.rglob("*.md")):
        shown = [split_target(target)[0] for _, target in include_targets(page.read_text(encoding="utf-8"))]
        shown_python = [file for file in shown if file.endswith(".py") and file.startswith(("app/", "tests/"))]
        if shown_python:
            selection = select(page.relative_to(DOCS).as_posix())
            assert selection.service_modules, f"{page.relative_to(ROOT)} shows {shown_python}, yet --page runs no test"


def test_a_shown_api_package_selects_its_mirrored_test_module() -> None:
    # The request models of app/api/messaging/; tests/api/test_messaging.py posts them over HTTP.
    assert "snippets/tests/api/test_messaging.py" in select("docs/patterns/request-response-models.md").service_modules


def test_a_fixture_shown_from_a_conftest_selects_the_tests_using_it_through_other_fixtures() -> None:
    # devops/testing.md shows `settings`; `client` depends on it, and test_auth.py asks for `client`.
    assert "snippets/tests/api/test_auth.py" in select("docs/devops/testing.md").service_modules


def test_a_fixture_shown_from_the_servers_plugin_selects_the_tests_using_it() -> None:
    # devops/redis.md shows `redis_url` from tests/servers.py; test_event_loop.py asks for it by name.
    assert "snippets/tests/test_event_loop.py" in select("docs/devops/redis.md").service_modules
