"""Fixtures for the tests of the site itself: one strict build per session, shared by every test."""

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from markdown import Markdown
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import _RelativePathTreeprocessor

# The fence guard's run-wide hooks, here because pytest-xdist's controller loads this conftest
# (a test path's) and not the guard's own (see guidekit/guard/run_hooks.py).
from guidekit.guard.run_hooks import (  # noqa: F401
    pytest_collection_finish,
    pytest_configure,
    pytest_runtest_logreport,
    pytest_runtestloop,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
)
from guidekit.markdown.nav import site_config
from guidekit.paths import POSTGRESQL_SEEN, ROOT, SNIPPETS
from guidekit.run_limits import limit_seconds
from guidekit.site.build import MKDOCS, SHARED_SITE, BuiltSite, mkdocs_build, serve

# One build for a whole pytest-xdist run, started by the controller and served by it for the whole
# run; each worker waits for it. The controller cannot see which tests need the site (its workers
# collect them), so a worker that collected one asks for it (`wanted`), and the controller starts
# the build when that worker's collection is reported: a run without such a test builds nothing.
_shared_site_key = pytest.StashKey[tuple[subprocess.Popen[str], subprocess.Popen[bytes]]]()


def _runs_tests_in(config: pytest.Config, folder: Path) -> bool:
    for argument in config.args:
        path = (config.invocation_params.dir / argument.split("::")[0]).resolve()
        if path == folder or folder in path.parents or path in folder.parents:
            return True
    return False


def _runs_site_tests(config: pytest.Config) -> bool:
    return _runs_tests_in(config, ROOT / "tests")


def _runs_service_tests(config: pytest.Config) -> bool:
    """Whether the run has the service's tests (not with `--page`, which may pick none)."""
    return _runs_tests_in(config, ROOT / "snippets" / "tests") and not config.getoption("page", None)


def _shared_folder(config: pytest.Config) -> Path | None:
    """The controller's folder for the shared build, in the controller or a worker; None in a run without workers."""
    basetemp: Path = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    if hasattr(config, "workerinput"):
        folder = basetemp.parent / SHARED_SITE
        return folder if folder.is_dir() else None
    return basetemp / SHARED_SITE if config.getoption("numprocesses", None) else None


def pytest_sessionstart(session: pytest.Session) -> None:
    """In pytest-xdist's controller, when the run has site tests: make the shared build's folder."""
    config = session.config
    if hasattr(config, "workerinput") or not _runs_site_tests(config) or not (folder := _shared_folder(config)):
        return
    folder.mkdir(parents=True)
    # The stack page states the PostgreSQL version this run's tests record (`guidekit.tested_with`),
    # so when the run has database tests the build waits (60 s at most) until this run has recorded
    # it (`POSTGRESQL_SEEN` newer than the run; the record itself changes at the start of a run).
    (folder / "started").touch()
    stamp = time.time() - 2  # `sh`'s `-nt` may compare whole seconds
    os.utime(folder / "started", (stamp, stamp))


@pytest.hookimpl(wrapper=True)  # after every selection (`--page`, `-k`)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Generator[None, None, None]:
    """In a pytest-xdist worker that collected a test of the built site: ask the controller for it."""
    yield
    folder = _shared_folder(config)
    wanted = any("built_site" in getattr(item, "fixturenames", ()) for item in items)
    if folder and hasattr(config, "workerinput") and wanted:
        (folder / "wanted").touch()


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook
def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    """In the controller, once a worker that wants the site has collected: build and serve it in the background."""
    config: pytest.Config = node.config  # type: ignore[attr-defined]
    folder = _shared_folder(config)
    if not folder or not (folder / "wanted").exists() or config.stash.get(_shared_site_key, None):
        return
    (folder / "site").mkdir()
    server, url = serve(folder / "site")
    env = os.environ | {"NO_MKDOCS_2_WARNING": "1", "SITE_URL": url}
    wait = 600 if _runs_service_tests(config) else 0
    # The shell writes the exit code once the build is over; workers wait for it. A session of its
    # own, so that stopping it stops MkDocs too.
    script = (
        'i=0; while [ "$i" -lt "$6" ] && [ ! "$4" -nt "$5" ]; do sleep 0.1; i=$((i+1)); done; '
        '"$0" build --strict --site-dir "$1" > "$2" 2>&1; echo $? > "$3.tmp" && mv "$3.tmp" "$3"'
    )
    arguments = [str(folder / name) for name in ("site", "log", "exit-code")]
    arguments += [str(POSTGRESQL_SEEN), str(folder / "started"), str(wait)]
    build = subprocess.Popen(["sh", "-c", script, MKDOCS, *arguments], cwd=ROOT, env=env, start_new_session=True)
    (folder / "url").write_text(url)
    config.stash[_shared_site_key] = (server, build)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the shared build's server, and the build (its whole process group) if the run ended first."""
    if started := config.stash.get(_shared_site_key, None):
        server, build = started
        with contextlib.suppress(ProcessLookupError):
            os.killpg(build.pid, signal.SIGTERM)
        server.terminate()
        for process in (build, server):
            process.communicate(timeout=10)


def _shared_build(config: pytest.Config) -> tuple[Path, str, int, str] | None:
    """The controller's build, once it is done, in a pytest-xdist worker; None without one."""
    folder = _shared_folder(config)
    if not folder or not hasattr(config, "workerinput"):
        return None
    patience = limit_seconds() - 10  # inside the test's own time limit, so the build log is shown
    deadline = time.monotonic() + patience
    while not (folder / "exit-code").is_file():
        if time.monotonic() > deadline:
            log = folder / "log"
            pytest.fail(
                f"the shared site build did not finish in {patience:g} s:\n{log.read_text() if log.exists() else ''}"
            )
        time.sleep(0.1)
    code = int((folder / "exit-code").read_text())
    return folder / "site", (folder / "url").read_text(), code, (folder / "log").read_text()


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[BuiltSite]:
    """The real site, built once per run with `--strict` and served over HTTP on 127.0.0.1.

    The server takes its port first so the site is built for its own address (`SITE_URL`), as
    `mkdocs serve` does: the theme's instant navigation only follows links its sitemap lists, and
    compares their ports. Under pytest-xdist the controller builds and serves it once for all
    workers (see `pytest_sessionstart`); a run without workers builds it here.
    The file tests read the folder; the browser tests read the same build through the server.
    """
    if shared := _shared_build(pytestconfig):
        site_dir, url, code, log = shared
        if code != 0:
            pytest.fail(f"`mkdocs build --strict` failed; run `uv run mkdocs build` and fix:\n{log}")
        yield BuiltSite(path=site_dir, log=log, url=url)
        return
    site_dir = tmp_path_factory.mktemp("site")
    server, url = serve(site_dir)
    try:
        completed = mkdocs_build(ROOT, site_dir, site_url=url)
        log = completed.stdout + completed.stderr
        if completed.returncode != 0:
            pytest.fail(f"`mkdocs build --strict` failed; run `uv run mkdocs build` and fix:\n{log}")
        yield BuiltSite(path=site_dir, log=log, url=url)
    finally:
        server.terminate()
        server.communicate(timeout=10)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of the site's sources for a test to break; what it only reads is linked, not copied."""
    for folder in ("docs", "hooks"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for file in ("mkdocs.yml", "pyproject.toml"):
        shutil.copy(ROOT / file, tmp_path / file)
    # The tests too: a page that names a test as its proof is checked against them.
    for folder in ("snippets", "diagrams", "vendor", "tests", "overrides"):
        (tmp_path / folder).symlink_to(ROOT / folder, target_is_directory=True)
    return tmp_path


@pytest.fixture
def page_markdown(tmp_path: Path) -> Callable[[str, str], Markdown]:
    """`(text, src_uri)` -> the Markdown instance MkDocs would convert a page at `docs/{src_uri}` with.

    The page is written to a folder of its own, since the site's extensions read the page as written;
    the instance has the extensions of `mkdocs.yml` and the `relpath` treeprocessor MkDocs adds.
    """

    def make(text: str, src_uri: str = "guide/new.md") -> Markdown:
        (tmp_path / "docs" / src_uri).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "docs" / src_uri).write_text(text, encoding="utf-8")
        names: list[str] = []
        options: dict[str, dict[str, object]] = {}
        for entry in site_config()["markdown_extensions"]:
            name, given = next(iter(entry.items())) if isinstance(entry, dict) else (entry, None)
            names.append(name)
            options[name] = dict(given or {})
        options["pymdownx.snippets"]["base_path"] = [str(SNIPPETS)]  # not the working directory's
        md = Markdown(extensions=names, extension_configs=options)
        page = File(src_uri, str(tmp_path / "docs"), str(tmp_path / "site"), use_directory_urls=True)
        md.treeprocessors.register(_RelativePathTreeprocessor(page, Files([page]), MkDocsConfig()), "relpath", 0)
        return md

    return make
