"""The writer's loop: `uv run pytest --page docs/database/soft-delete.md` verifies one page.

It runs what stands behind that page and nothing else:

- the fence guard on the page's fences (`tests/fence_guard/test_guard.py`);
- the service's test modules behind its includes: every test module the page includes, and
  every one that imports a module of `app` the page includes (read from the modules' imports);
- the browser checks of the page (`tests/browser/test_pages.py`) and the link crawl of the built
  site (`tests/browser/test_links.py`).

No coverage floor: a part of the suite cannot reach 100%, so the full run keeps that promise.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from hooks.snippet_includes import include_targets, split_target

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"
SERVICE_TESTS = "snippets/tests/"
SITE_TESTS = ("tests/fence_guard/test_guard.py", "tests/browser/test_pages.py", "tests/browser/test_links.py")
LINK_CRAWL = "tests/browser/test_links.py::test_every_internal_link_and_anchor_resolves"


@dataclass(frozen=True)
class PageSelection:
    """What verifies one page: its source path (`database/soft-delete.md`) and the service test modules."""

    source: str
    service_modules: frozenset[str]
    """Test modules of the service behind the page's includes, as paths from the root."""

    def wants(self, nodeid: str) -> bool:
        """Whether a collected test belongs to this page's check."""
        path, _, test = nodeid.partition("::")
        if path.startswith(SERVICE_TESTS):
            return path in self.service_modules
        if path == "tests/fence_guard/test_guard.py":
            return test.startswith(f"test_fence[{self.source}:")
        if path == "tests/browser/test_pages.py":
            return test.endswith(f"[{self.source}]")
        return nodeid == LINK_CRAWL

    def collects(self, path: Path) -> bool:
        """Whether a test file may hold tests of this page (others are not even imported)."""
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(SERVICE_TESTS):
            return relative in self.service_modules
        return relative in SITE_TESTS


def select(page: str) -> PageSelection:
    """The selection for a page given as `docs/x/y.md` or `x/y.md`; a clear error for anything else."""
    source = page.removeprefix("docs/")
    path = DOCS / source
    if not source.endswith(".md") or not path.is_file():
        known = ", ".join(sorted(p.relative_to(ROOT).as_posix() for p in DOCS.rglob("*.md"))[:5])
        raise pytest.UsageError(f"--page {page}: no such page in docs/ (pages look like {known}, ...)")
    included = {split_target(target)[0] for _, target in include_targets(path.read_text(encoding="utf-8"))}
    shown_tests = {f"snippets/{file}" for file in included if file.startswith("tests/") and file.endswith(".py")}
    shown_modules = {_module_of(file) for file in included if file.startswith("app/") and file.endswith(".py")}
    behind = {
        test.relative_to(ROOT).as_posix()
        for test in (SNIPPETS / "tests").rglob("test_*.py")
        if _imported_app_modules(test) & shown_modules
    }
    return PageSelection(source, frozenset(shown_tests | behind))


def _module_of(file: str) -> str:
    """`app/db/base_table.py` -> `app.db.base_table`; a package's `__init__.py` is the package."""
    return file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def _imported_app_modules(test: Path) -> set[str]:
    """The modules of `app` a test module imports (`from app.x import y` also counts `app.x.y`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(test.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("app"))
    return found
