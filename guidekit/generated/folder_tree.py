"""`folder-tree [PATH ...]`: the files under `snippets/` (or the given sub-folders), with each module's role."""

import ast
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from guidekit.generated.base_table_methods import docstring_summary
from guidekit.paths import SNIPPETS

SKIPPED_PARTS = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv")
# What a file is for, where it has no docstring to say so.
FILE_ROLES = {
    "pyproject.toml": "runtime dependencies; Poetry 2 builds it",
    "README.md": "how to install the service",
    "db/schema.sql": "the schema dumped by dbmate; committed and checked for drift",
    ".env.example": "every setting the service reads, with example values",
    "Dockerfile": "the container image",
    "docker-compose.yml": "the service with its PostgreSQL and Redis, for local runs",
    "Makefile": "shortcuts for the everyday commands",
}


def snippet_files() -> list[Path]:
    """The files of `snippets/` the repository holds: tracked or new, never git-ignored."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=SNIPPETS,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        paths = [Path(line) for line in listed]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: walk the folder instead
        paths = [path.relative_to(SNIPPETS) for path in SNIPPETS.rglob("*") if path.is_file()]
    kept = (path for path in paths if (SNIPPETS / path).is_file() and not set(path.parts) & set(SKIPPED_PARTS))
    return sorted(set(kept), key=lambda path: path.parts)  # a file in a merge conflict is listed once per stage


def role_of(relative: Path) -> str:
    """The summary of a module's docstring, or the role a config file is known for."""
    if relative.as_posix() in FILE_ROLES:
        return FILE_ROLES[relative.as_posix()]
    if relative.suffix != ".py":
        return ""
    docstring = ast.get_docstring(ast.parse((SNIPPETS / relative).read_text(encoding="utf-8"))) or ""
    summary = docstring_summary(docstring)
    return summary.split(": ")[0].rstrip(".") if len(summary) > 70 else summary.rstrip(".")


def folder_tree(roots: Iterable[str]) -> str:
    """A `tree`-style listing of the files under the given sub-folders of `snippets/`."""
    prefixes = [Path(root) for root in roots] or [Path()]
    files = [path for path in snippet_files() if any(path.is_relative_to(prefix) for prefix in prefixes)]
    if not files:
        raise ValueError(f"no files under snippets/{', snippets/'.join(map(str, prefixes))}")
    nested: dict[str, dict[str, Any]] = {}
    for path in files:
        node = nested
        for part in path.parts:
            node = node.setdefault(part, {})
    lines: list[tuple[str, str]] = []

    def walk(node: dict[str, dict[str, Any]], prefix: str, parents: tuple[str, ...]) -> None:
        names = sorted(node)
        for index, name in enumerate(names):
            last = index == len(names) - 1
            children = node[name]  # a file has none: empty folders are not listed
            label = prefix + ("└── " if last else "├── ") + name + ("/" if children else "")
            lines.append((label, "" if children else role_of(Path(*parents, name))))
            if children:
                walk(children, prefix + ("    " if last else "│   "), (*parents, name))

    walk(nested, "", ())
    width = max(len(label) for label, _ in lines)
    body = "\n".join(f"{label:<{width}}  # {role}" if role else label for label, role in lines)
    return f"```text\nsnippets/\n{body}\n```"


def generate(args: list[str], root: Path) -> str:
    """The tree of the sub-folders the marker names, or of all of `snippets/` (the checkout's: a copied
    project links it)."""
    return folder_tree(args)
