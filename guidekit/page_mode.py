"""The writer's loop: `uv run pytest --page docs/database/soft-delete.md` verifies one page.

It runs what stands behind that page and nothing else:

- the fence guard on the page's fences (`tests/fence_guard/test_guard.py`);
- the service's tests behind its includes: the tests the page shows (or, for a shown fixture,
  the tests that use it), and the tests that use a name defined by the `app` code it shows, in
  the modules that import that module (read from the test modules, not imported);
- the browser checks of the page (`tests/browser/test_pages.py`) and the link crawl of the built
  site (`tests/browser/test_links.py`).

No coverage floor: a part of the suite cannot reach 100%, so the full run keeps that promise.
"""

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from hooks.snippet_includes import SECTION_MARKER, include_targets, split_target

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SNIPPETS = ROOT / "snippets"
SERVICE_TESTS = "snippets/tests/"
SITE_TESTS = ("tests/fence_guard/test_guard.py", "tests/browser/test_pages.py", "tests/browser/test_links.py")
LINK_CRAWL = "tests/browser/test_links.py::test_every_internal_link_and_anchor_resolves"
# What a shown piece of code defines: functions, methods, classes and module constants.
_DEFINED = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)|^([A-Z][A-Z0-9_]*)[ \t]*[:=]", re.MULTILINE)


@dataclass(frozen=True)
class PageSelection:
    """What verifies one page: its source path (`database/soft-delete.md`) and the service tests."""

    source: str
    service_tests: frozenset[tuple[str, str]]
    """Tests of the service behind the page's includes: (path from the root, test function name)."""

    @property
    def service_modules(self) -> frozenset[str]:
        """The service's test modules that hold at least one of the page's tests."""
        return frozenset(path for path, _ in self.service_tests)

    def wants(self, nodeid: str) -> bool:
        """Whether a collected test belongs to this page's check."""
        path, _, test = nodeid.partition("::")
        if path.startswith(SERVICE_TESTS):
            return (path, test.split("::")[-1].split("[")[0]) in self.service_tests
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
    tests = {test.relative_to(ROOT).as_posix(): _TestModule(test) for test in (SNIPPETS / "tests").rglob("test_*.py")}
    chosen: set[tuple[str, str]] = set()
    for _, target in include_targets(path.read_text(encoding="utf-8")):
        file, section = split_target(target)
        if not file.endswith(".py") or not (SNIPPETS / file).is_file():
            continue
        names = _defined_names((SNIPPETS / file).read_text(encoding="utf-8"), section)
        if file.startswith("tests/") and f"snippets/{file}" in tests:
            shown = tests[f"snippets/{file}"]
            shown_tests = {name for name in names if name in shown.tests}
            # A shown fixture or helper: the module's tests that use it.
            chosen.update((f"snippets/{file}", test) for test in shown_tests or shown.using(names))
        elif file.startswith("app/"):
            module = _module_of(file)
            for test_path, test_module in tests.items():
                if module in test_module.imported_app_modules:
                    chosen.update((test_path, test) for test in test_module.using(names))
    return PageSelection(source, frozenset(chosen))


def _defined_names(text: str, section: str | None) -> set[str]:
    """The names a file, or one section of it, defines."""
    if section is not None:
        lines, inside = [], False
        for line in text.splitlines():
            marker = SECTION_MARKER.search(line)
            if marker and marker["name"] == section:
                inside = marker["kind"] == "start"
            elif inside:
                lines.append(line)
        text = "\n".join(lines)
    return {first or second for first, second in _DEFINED.findall(text)}


class _TestModule:
    """A test module of the service, read (not imported): its tests, what they use, what it imports."""

    def __init__(self, path: Path) -> None:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        self.imported_app_modules = _imported_app_modules(tree)
        # Each test function, and the names it uses: identifiers, attributes and fixture arguments.
        self.tests: dict[str, set[str]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                used = {arg.arg for arg in node.args.args + node.args.kwonlyargs}
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Name):
                        used.add(inner.id)
                    elif isinstance(inner, ast.Attribute):
                        used.add(inner.attr)
                self.tests[node.name] = used

    def using(self, names: set[str]) -> set[str]:
        """Its tests that use one of `names`; every test when `names` is empty (nothing to match)."""
        return {test for test, used in self.tests.items() if not names or used & names}


def _module_of(file: str) -> str:
    """`app/db/base_table.py` -> `app.db.base_table`; a package's `__init__.py` is the package."""
    return file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def _imported_app_modules(tree: ast.Module) -> set[str]:
    """The modules of `app` a test module imports (`from app.x import y` also counts `app.x.y`)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("app"))
    return found
