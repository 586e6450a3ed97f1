"""The writer's loop: `uv run pytest --page docs/database/soft-delete.md` verifies one page.

It runs what stands behind that page and nothing else:

- the fence guard on the page's fences (`tests/fence_guard/test_guard.py`);
- the service's test modules behind its includes (read from the files, not imported): every
  test module the page shows; for a fixture shown from a `conftest.py`, the test modules below
  it that use that fixture, directly or through another; for an `app` module, the test modules
  importing its package (the module itself at the top: `app/main.py`) and the one mirroring it
  (`app/api/messaging/` -> `tests/api/test_messaging.py`). Whole modules, because a test can
  reach shown code indirectly (over HTTP, through a fixture, a Celery task);
- the browser checks of the page (`tests/browser/test_pages.py`) and, in the link crawl
  (`tests/test_link_validation.py`), the page's own links and the anchors they name.

No coverage floor: a part of the suite cannot reach 100%, so the full run keeps that promise.
"""

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from guidekit.markdown.includes import include_targets, resolve, split_target
from guidekit.paths import DOCS, ROOT, SNIPPETS

SERVICE_TESTS = "snippets/tests/"
SITE_TESTS = ("tests/fence_guard/test_guard.py", "tests/browser/test_pages.py", "tests/test_link_validation.py")
LINK_CRAWL = "tests/test_link_validation.py::test_every_internal_link_and_anchor_resolves"
# What a shown piece of code defines at its top level: functions and classes (fixtures are functions).
_DEFINED = re.compile(r"^(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)", re.MULTILINE)


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
    if not source.endswith(".md") or not path.is_file() or DOCS not in path.resolve().parents:
        known = ", ".join(sorted(p.relative_to(ROOT).as_posix() for p in DOCS.rglob("*.md"))[:5])
        raise pytest.UsageError(f"--page {page}: no such page in docs/ (pages look like {known}, ...)")
    tests = {test.relative_to(ROOT).as_posix(): test for test in (SNIPPETS / "tests").rglob("test_*.py")}
    chosen: set[str] = set()
    for _, target in include_targets(path.read_text(encoding="utf-8")):
        file, _ = split_target(target)  # line-number includes are refused by the fence guard
        shown = SNIPPETS / file
        if not file.endswith(".py") or not shown.is_file():
            continue
        if f"snippets/{file}" in tests:
            chosen.add(f"snippets/{file}")
        elif file.startswith("tests/"):  # the conftest or the servers plugin: the fixtures the page shows
            shown_names = set(_DEFINED.findall(resolve(target, [SNIPPETS]).text))
            fixtures = _with_dependents(_fixture_modules(), shown_names)
            chosen.update(test_path for test_path, test in tests.items() if _used_names(test) & fixtures)
        elif file.startswith("app/"):
            module = _module_of(file)
            package = module.rpartition(".")[0] if shown.name != "__init__.py" else module
            if "." not in package:  # a module at the top (`app/main.py`): `app` would be every test
                package = module
            chosen.update(test_path for test_path, test in tests.items() if _imports_from(test, package))
            # The tests mirror the service's layout: `app/api/messaging/` is tested by
            # `tests/api/test_messaging.py`, which reaches its routes over HTTP without importing them.
            layer, _, rest = file.removeprefix("app/").partition("/")
            mirror = f"snippets/tests/{layer}/test_{rest.split('/')[0].removesuffix('.py')}.py"
            if rest and mirror in tests:
                chosen.add(mirror)
    return PageSelection(source, frozenset(chosen))


def _fixture_modules() -> list[Path]:
    """The service's modules of fixtures: its conftest and the plugins it registers (every non-test module)."""
    return sorted(path for path in (SNIPPETS / "tests").rglob("*.py") if not path.name.startswith("test_"))


def _with_dependents(modules: list[Path], fixtures: set[str]) -> set[str]:
    """The shown fixtures and every fixture of those modules that uses one, at any depth."""
    functions = [
        node
        for module in modules
        for node in ast.parse(module.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    found = set(fixtures)
    while True:
        more = {
            function.name
            for function in functions
            if function.name not in found and {arg.arg for arg in function.args.args} & found
        }
        if not more:
            return found
        found |= more


@functools.cache
def _used_names(test: Path) -> frozenset[str]:
    """Every name a test module uses: identifiers, attributes and function arguments (fixtures)."""
    used: set[str] = set()
    for node in ast.walk(ast.parse(test.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
        elif isinstance(node, ast.arg):
            used.add(node.arg)
    return frozenset(used)


def _module_of(file: str) -> str:
    """`app/db/base_table.py` -> `app.db.base_table`; a package's `__init__.py` is the package."""
    return file.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def _imports_from(test: Path, package: str) -> bool:
    """Whether a test module imports `package` or a module inside it."""
    return any(name == package or name.startswith(f"{package}.") for name in _imported_app_modules(test))


def _in_app(module: str) -> bool:
    return module == "app" or module.startswith("app.")


@functools.cache  # a page's includes ask about every test module, each of them
def _imported_app_modules(test: Path) -> frozenset[str]:
    """The modules of `app` a test module imports (`from app.x import y` also counts `app.x.y`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(test.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and _in_app(node.module):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if _in_app(alias.name))
    return frozenset(found)
