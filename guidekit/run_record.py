"""The run's record, `.record/tested-with.json`: what the site's last test runs used and which pages they verified.

One JSON file, git-ignored, written by the site's test runs (`guidekit.tested_with`,
`guidekit.verification`) and read by the build (the Stack page's PostgreSQL row, each page's stamp):

```json
{
  "postgresql": "18.4",                      // the server the last run that used one talked to
  "recorded_at": "2026-12-05",               //   on that day (the Stack page's row)
  "postgresql_at": "2026-12-05T03:41:07Z",   //   at that moment (a run takes it when it is newer than its start)
  "runs": {
    "2026-12-05T03:40:00.123456Z": {          // a run, named by its start (UTC)
      "scope": "all",                        // the whole suite, or one page: "docs/database/soft-delete.md"
      "outcome": "passed",                   // or "failed", "interrupted", "empty", "running" (not ended)
      "finished_at": "2026-12-05T03:44:10Z",
      "postgresql": "18.4",                  // null when no test of the run used the database
      "packages": {"fastapi": "0.137.2"},    // every distribution the snippets import, as installed
      "files": {"docs/database/soft-delete.md": "<sha256>", "snippets/app/base/base_table.py": "<sha256>"},
      "imports": {"snippets/app/base/base_table.py": ["sqlalchemy", "sqlmodel"]}  // each Python file's
    }
  },
  "pages": {"docs/database/soft-delete.md": "2026-12-05T03:40:00.123456Z"}  // each page's last run
}
```

`files` is the code as it was when the run started: every page and every file a page includes (or
documents with mkdocstrings); `imports` what those of them that are Python import, by distribution.
A run enters `runs` at its start as `running` and takes its outcome when it ends
(`pytest_sessionfinish`), passed or not; a run killed before it ends stays `running`, so its pages
read "Not verified" until a later run ends.

Every change is a read, a change and a whole write renamed into place, under an exclusive lock
(`fcntl.flock` on a lock file next to the record): pytest-xdist's workers (the PostgreSQL version)
and the controller (the run) change it at the same time, and a build reading it never sees half a file.
"""

import ast
import contextlib
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from guidekit.markdown.fences import parse_page
from guidekit.markdown.includes import include_targets, split_target
from guidekit.paths import ROOT, TESTED_WITH

RECORD = TESTED_WITH.relative_to(ROOT)
"""The record, relative to the root of the project that is tested or built (`.record/tested-with.json`)."""

# A page "touches the database" when it shows SQL or a migration, or code importing one of these
# (the service's database layer is `app.db`; `app.base` holds its base table and session).
DATABASE_MODULES = ("sqlalchemy", "sqlmodel", "asyncpg", "psycopg", "psycopg2", "app.db", "app.base")

MKDOCSTRINGS_DIRECTIVE = re.compile(r"^:::[ \t]+([\w.]+)", re.MULTILINE)

Record = dict[str, Any]


def read(root: Path) -> Record | None:
    """The record of the project at `root`, or None when no run wrote one."""
    path = root / RECORD
    if not path.is_file():
        return None
    recorded: Record = json.loads(path.read_text(encoding="utf-8"))
    return recorded


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    (root / RECORD).parent.mkdir(exist_ok=True)
    with (root / RECORD).with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # the lock goes with the file's closing


def update(root: Path, change: Callable[[Record], None]) -> None:
    """Change the record (an empty one when there is none) under the lock; write it whole, then rename it."""
    path = root / RECORD
    with _locked(root):
        recorded = read(root) or {}
        change(recorded)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        partial.replace(path)


def included_files(page_text: str) -> list[str]:
    """The files under `snippets/` a page includes, as paths from the root (`snippets/app/x.py`), once each."""
    files = [f"snippets/{split_target(target)[0]}" for _, target in include_targets(page_text)]
    return list(dict.fromkeys(files))


def documented_files(page_text: str, root: Path) -> list[str]:
    """The modules whose docstrings a page renders with mkdocstrings (`::: app.core.config.Settings`),
    as files from the root: the longest prefix of the dotted name that is a module under `snippets/`."""
    files = []
    for name in MKDOCSTRINGS_DIRECTIVE.findall(page_text):
        parts = name.split(".")
        for length in range(len(parts), 0, -1):
            path = "snippets/" + "/".join(parts[:length])
            module = next((f for f in (f"{path}.py", f"{path}/__init__.py") if (root / f).is_file()), None)
            if module:
                files.append(module)
                break
    return files


def page_files(page: str, root: Path) -> list[str]:
    """A page (`docs/x.md`), the files it includes and the modules it documents: what its stamp vouches for."""
    text = (root / page).read_text(encoding="utf-8")
    return list(dict.fromkeys([page, *included_files(text), *documented_files(text, root)]))


def digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, or `missing`."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"


def fingerprint(pages: list[str], root: Path) -> dict[str, str]:
    """`{path: sha256}` of the pages and every file they include."""
    files = [file for page in pages for file in page_files(page, root)]
    return {file: digest(root / file) for file in sorted(set(files))}


def imported_modules(source: str) -> set[str]:
    """The absolute imports of a Python file, dotted; `from a.b import c` gives `a.b.c`, which may be a
    module or a name in `a.b` (`from opentelemetry import trace`, `from fastapi import FastAPI`)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


@cache
def _distributions_of() -> Mapping[str, list[str]]:
    return metadata.packages_distributions()


@cache
def _files_of(distribution: str) -> frozenset[str]:
    return frozenset(file.as_posix() for file in metadata.files(distribution) or [])


def providers(module: str) -> list[str]:
    """The distributions that install a module. A namespace package (`opentelemetry`) is shared by
    many: the one holding the longest prefix of the dotted name as a file is the one imported."""
    parts = module.split(".")
    candidates = _distributions_of().get(parts[0], [])
    if len(candidates) <= 1:
        return list(candidates)
    for length in range(len(parts), 0, -1):
        path = "/".join(parts[:length])
        holding = [name for name in candidates if {f"{path}.py", f"{path}/__init__.py"} & _files_of(name)]
        if holding:
            return holding
    return list(candidates)


def distributions(modules: set[str], root: Path) -> set[str]:
    """The installed distributions (canonical names) providing modules; the project's own modules
    (a top-level name under `snippets/`: `app`, `tests`) and the standard library have none."""
    found: set[str] = set()
    for module in modules:
        top = module.partition(".")[0]
        if (root / "snippets" / top).is_dir() or (root / "snippets" / f"{top}.py").is_file():
            continue
        found.update(canonicalize_name(name) for name in providers(module))
    return found


def installed_versions(names: set[str]) -> dict[str, str]:
    """`{distribution: installed version}`."""
    return {name: metadata.version(name) for name in sorted(names)}


def imports_by_file(files: list[str], root: Path) -> dict[str, list[str]]:
    """`{file: [distributions it imports]}` for the Python files among `files`: the run records it,
    so a build needs no scan of the installed distributions (seconds) for a page that is unchanged."""
    return {file: sorted(snippet_distributions([file], root)) for file in files if file.endswith(".py")}


def snippet_distributions(files: list[str], root: Path) -> set[str]:
    """The distributions the Python files among `files` import."""
    modules: set[str] = set()
    for file in files:
        if file.endswith(".py") and (root / file).is_file():
            modules |= imported_modules((root / file).read_text(encoding="utf-8"))
    return distributions(modules, root)


def touches_database(files: list[str], root: Path) -> bool:
    """Whether a page's code touches PostgreSQL: the page has a `sql` fence (the fence guard runs it on
    the server), or includes SQL (a `.sql` file, anything under `snippets/db/`) or Python that imports
    the database driver, SQLAlchemy, SQLModel or `app.db`/`app.base`."""
    for file in files:
        if file.endswith(".sql") or file.startswith("snippets/db/"):
            return True
        if file.endswith(".md") and any(
            fence.info.split()[:1] == ["sql"]
            for fence in parse_page((root / file).read_text(encoding="utf-8"), Path(file))
        ):
            return True
        if file.endswith(".py") and (root / file).is_file():
            modules = imported_modules((root / file).read_text(encoding="utf-8"))
            if any(module == db or module.startswith(f"{db}.") for module in modules for db in DATABASE_MODULES):
                return True
    return False
