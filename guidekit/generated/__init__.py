"""Generated content: `<!-- generated: NAME [ARGS] -->` lines of a page, replaced by content built from the code.

Facts that would go stale when typed by hand (versions, method lists, the folder tree) are
written by this hook at build time:

- `stack-versions`: the constraints in both `pyproject.toml` files, the installed versions,
  and the PostgreSQL version the last test run used (`.record/tested-with.json`, written by `guidekit.tested_with`).
- `base-table-methods`: the public methods of `BaseTable`, read from its source.
- `layer-rules`: the import rules that `snippets/tests/test_layer_rules.py` enforces.
- `folder-tree [PATH ...]`: the files under `snippets/` (or the given sub-folders), with each
  module's one-line docstring.
"""

from __future__ import annotations

import ast
import json
import platform
import re
import subprocess
import tomllib
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from guidekit.paths import ROOT, SNIPPETS, TESTED_WITH

BASE_TABLE_SOURCE = SNIPPETS / "app" / "base" / "base_table.py"
LAYER_RULES_SOURCE = SNIPPETS / "tests" / "test_layer_rules.py"
MERMAID_VENDOR = ROOT / "vendor"

MARKER = re.compile(r"^<!-- generated: (?P<name>[a-z-]+)(?P<args>(?: [^ ]+)*) -->$")


class GeneratedContentError(Exception):
    """A marker the build cannot fill: unknown, or its generator failed; the message names the page and line."""


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
    """The first sentence of a module's docstring, or the role a config file is known for."""
    if relative.as_posix() in FILE_ROLES:
        return FILE_ROLES[relative.as_posix()]
    if relative.suffix != ".py":
        return ""
    docstring = ast.get_docstring(ast.parse((SNIPPETS / relative).read_text(encoding="utf-8"))) or ""
    first_line = docstring.strip().splitlines()[0] if docstring.strip() else ""
    return first_line.split(": ")[0].rstrip(".") if len(first_line) > 70 else first_line.rstrip(".")


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


def signature(node: ast.AsyncFunctionDef | ast.FunctionDef) -> str:
    """The parameters after `self`, written as in the source, PEP 8 spacing around defaults."""
    args = node.args
    positional = args.posonlyargs + args.args
    first_default = len(positional) - len(args.defaults)
    parts: list[str] = []

    def one(arg: ast.arg, default: ast.expr | None) -> str:
        text = arg.arg + (f": {ast.unparse(arg.annotation)}" if arg.annotation else "")
        if default is not None:
            text += f" = {ast.unparse(default)}" if arg.annotation else f"={ast.unparse(default)}"
        return text

    for index, arg in enumerate(positional):
        parts.append(one(arg, args.defaults[index - first_default] if index >= first_default else None))
    if args.vararg:
        parts.append("*" + one(args.vararg, None))
    elif args.kwonlyargs:
        parts.append("*")
    parts += [one(arg, default) for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    if args.kwarg:
        parts.append("**" + one(args.kwarg, None))
    return ", ".join(part for part in parts if part not in {"self", "cls"})


def requirement_rows(pyproject: Path, groups: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    """`(package, constraint, installed)` for each requirement a pyproject declares."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    declared = list(data["project"]["dependencies"])
    for group in groups:
        declared += data.get("dependency-groups", {}).get(group, [])
    rows = []
    for line in declared:
        requirement = Requirement(line)
        if not requirement.specifier:
            continue  # a path dependency (the reference service itself) has no version to state
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        # The constraint as written (`>=0.34,<1`), not re-ordered by `packaging`.
        constraint = line.split("]")[-1] if "[" in line else line[len(requirement.name) :]
        rows.append((requirement.name, constraint.strip(), installed))
    return rows


def tested_postgresql() -> str:
    """The server version the last test session recorded, or a clear note that there is none."""
    if not TESTED_WITH.is_file():
        return "**not recorded**: run `uv run pytest`, then build the site again"
    recorded = json.loads(TESTED_WITH.read_text(encoding="utf-8"))
    return f"{recorded['postgresql']} (tests of {recorded['recorded_at']})"


def mermaid_version() -> str:
    """The version of the vendored mermaid bundle, from its folder name."""
    folders = sorted(path.name for path in MERMAID_VENDOR.glob("mermaid-*") if path.is_dir())
    return folders[-1].removeprefix("mermaid-") if folders else "not vendored"


def table(rows: Iterable[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """A Markdown table. A `|` needs no escape inside a code span, where a backslash would show."""
    cells = [header, tuple("---" for _ in header), *rows]
    return "\n".join("| " + " | ".join(escape_pipes(cell) for cell in row) + " |" for row in cells)


def escape_pipes(cell: str) -> str:
    """Escape the `|` outside code spans, so they do not split the cell."""
    parts = cell.split("`")
    return "`".join(part if index % 2 else part.replace("|", "\\|") for index, part in enumerate(parts))


def stack_versions(args: list[str]) -> str:
    """The version tables of the stack page."""
    header = ("Package", "Constraint", "Tested with")
    service = [
        (f"`{name}`", f"`{spec}`", version) for name, spec, version in requirement_rows(SNIPPETS / "pyproject.toml")
    ]
    tooling = [
        (f"`{name}`", f"`{spec}`", version)
        for name, spec, version in requirement_rows(ROOT / "pyproject.toml", groups=["dev"])
    ]
    python_constraint = tomllib.loads((SNIPPETS / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "requires-python"
    ]
    platform_rows = [
        ("Python", f"`{python_constraint}`", platform.python_version()),
        ("PostgreSQL", "15 or newer", tested_postgresql()),
        ("mermaid (vendored; draws the diagrams ahead of time)", "11.x", mermaid_version()),
    ]
    return "\n\n".join(
        [
            "### Platform\n\n" + table(platform_rows, header),
            "### Service runtime\n\nFrom `snippets/pyproject.toml`.\n\n" + table(service, header),
            "### Site and test tooling\n\nFrom the root `pyproject.toml`.\n\n" + table(tooling, header),
        ]
    )


def base_table_methods(args: list[str]) -> str:
    """The public methods of `BaseTable`, their signatures and one-line docstrings, from its source."""
    module = ast.parse(BASE_TABLE_SOURCE.read_text(encoding="utf-8"))
    cls = next(node for node in module.body if isinstance(node, ast.ClassDef) and node.name == "BaseTable")
    rows = []
    for node in cls.body:
        if not isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) or node.name.startswith("_"):
            continue
        arguments = signature(node)
        returns = ast.unparse(node.returns) if node.returns else "None"
        summary = (ast.get_docstring(node) or "").partition("\n")[0]
        call = f"`{'await ' if isinstance(node, ast.AsyncFunctionDef) else ''}{node.name}({arguments})`"
        rows.append((call, f"`{returns}`", summary))
    return table(rows, ("Method", "Returns", "What it does"))


def layer_rules(args: list[str]) -> str:
    """The rules `test_layer_rules.py` enforces, read from its `LAYER_RULES` list."""
    module = ast.parse(LAYER_RULES_SOURCE.read_text(encoding="utf-8"))
    assignment = next(
        node
        for node in module.body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "LAYER_RULES" for t in node.targets)
    )
    rules: list[tuple[str, str, str]] = ast.literal_eval(assignment.value)
    rows = [(rule, f"`{applies_to}`", f"`{forbidden}`") for rule, applies_to, forbidden in rules]
    return table(rows, ("Rule", "Modules it applies to", "Imports they may not make"))


GENERATORS: dict[str, Callable[[list[str]], str]] = {
    "layer-rules": layer_rules,
    "stack-versions": stack_versions,
    "base-table-methods": base_table_methods,
    "folder-tree": folder_tree,
}


def render(markdown: str, page_path: str) -> str:
    """Replace every marker line of a page; an unknown or failing marker names the page and line."""
    lines = markdown.split("\n")
    for number, line in enumerate(lines, start=1):
        match = MARKER.match(line.strip())
        if match is None:
            continue
        generator = GENERATORS.get(match["name"])
        if generator is None:
            known = ", ".join(sorted(GENERATORS))
            raise GeneratedContentError(
                f"{page_path}:{number}: unknown generated block {match['name']!r}; known: {known}"
            )
        try:
            lines[number - 1] = generator(match["args"].split())
        except (ValueError, OSError) as error:
            raise GeneratedContentError(
                f"{page_path}:{number}: generated block {match['name']!r} failed: {error}"
            ) from error
    return "\n".join(lines)
