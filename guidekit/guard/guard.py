"""Classify each fence by kind and send it to its checker."""

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pytest_examples import EvalExample
from sqlalchemy import URL

from guidekit.guard import check_config, check_json, check_mermaid, check_python, check_shell, check_sql, check_tree
from guidekit.guard.errors import FenceError
from guidekit.markdown.fences import Fence
from guidekit.markdown.includes import IncludeError, Region, fence_includes, has_include, resolve

CONFIG_KINDS = {"yaml", "toml", "json", "ini", "dotenv", "dockerfile", "http"}
HOW_TO_FIX = (
    'include the code from snippets/ (`--8<-- "path:section"`), use a kind the guard verifies '
    "(python, sql, bash, console, yaml, toml, json, ini, dotenv, dockerfile, http, mermaid, a folder tree), "
    "or opt out with `<!-- guard: skip <reason> -->` on the line above"
)


@dataclass
class Context:
    """What checkers need from the test run, fetched only when a fence needs it."""

    root: Path
    docs: Path
    snippets: Path
    fixture: Callable[[str], Any]
    """`request.getfixturevalue`: the database, the service and pytest-examples on demand."""
    include_bases: list[Path] = field(default_factory=list)

    @property
    def bases(self) -> list[Path]:
        """Where include paths are looked up, as `pymdownx.snippets`' `base_path` says."""
        return self.include_bases or [self.snippets]


@dataclass
class Verdict:
    """What a checker proved about a fence."""

    kind: str
    status: str
    detail: str
    regions: tuple[Region, ...] = ()


def classify(fence: Fence) -> str:
    """The kind of a fence, which picks its checker."""
    language = fence.language
    if fence_includes(fence.body) is not None:
        return "python-include" if language == "python" else "include"
    if "output" in fence.markers:
        return "output"
    if language in {"bash", "console"}:
        return "shell"
    if language in {"python", "sql", "mermaid", *CONFIG_KINDS}:
        return language
    if language in {"text", "tree", ""} and check_tree.looks_like_tree(fence.body):
        return "tree"
    return "unclassified"


def check(fence: Fence, context: Context) -> Verdict:
    """Verify one fence, or raise FenceError saying what is wrong and what to do."""
    kind = classify(fence)
    if "skip" in fence.markers:
        if not fence.markers["skip"].strip():
            raise FenceError(f"{fence.where}: `<!-- guard: skip -->` needs a reason after `skip`")
        return Verdict(kind, "opted out", fence.markers["skip"])
    if has_include(fence.body) and fence_includes(fence.body) is None:
        raise FenceError(f"{fence.where}: a fence mixes `--8<--` includes with inline lines; split it in two")
    if kind == "unclassified":
        raise FenceError(
            f"{fence.where}: no checker verifies a fence of language `{fence.language or '(none)'}`: {HOW_TO_FIX}"
        )
    if kind == "output":
        raise FenceError(
            f"{fence.where}: marked `output`, but the block above it ({fence.language}) is not one whose output "
            "the guard compares (sql); drop the marker or show the output another way"
        )
    if kind in {"python-include", "include"}:
        return _check_include(fence, kind, context)
    return Verdict(kind, "verified", _check_text(fence, kind, fence.body, context))


def _check_include(fence: Fence, kind: str, context: Context) -> Verdict:
    targets = fence_includes(fence.body) or []
    try:
        regions = tuple(resolve(target, context.bases) for target in targets)
    except IncludeError as error:
        raise FenceError(f"{fence.where}: {error}") from None
    if kind == "python-include":
        return Verdict(kind, "pending", "file and section exist; waiting for the run's coverage", regions)
    if fence.language == "sql" and all(_under(region.path, context.snippets / "db") for region in regions):
        return Verdict(kind, "verified", "migrations and schema, applied and checked by the service tests", regions)
    details = [_check_included_region(fence, region, context) for region in regions]
    return Verdict(kind, "verified", "; ".join(details), regions)


def _check_included_region(fence: Fence, region: Region, context: Context) -> str:
    """Config and shell includes get their kind's check; any other file must be read by a service test."""
    language = {"bash": "shell", "console": "shell", "yml": "yaml"}.get(fence.language, fence.language)
    name = region.path.relative_to(context.snippets).as_posix()
    shown = Fence(fence.page, fence.line, f'{fence.info} title="{name}"', textwrap.dedent(region.text))
    if language in {"shell", "mermaid", "dotenv", "sql", "json", "http"}:
        return _check_text(shown, language, shown.body, context)
    parsed = check_config.parse_included(shown, language, region.path, context.snippets)
    readers = tests_reading(region.path, context.snippets)
    if not readers:
        raise FenceError(
            f"{fence.where}: no test under snippets/tests reads {name}, so nothing checks what this block shows; "
            "add a test of the file"
        )
    return f"{parsed}; {name} is tested by {', '.join(readers)}"


def tests_reading(path: Path, snippets: Path) -> list[str]:
    """The service tests that name a file (by its name), i.e. that read and check it."""
    tests = snippets / "tests"
    return sorted(
        test.relative_to(snippets).as_posix()
        for test in tests.rglob("*.py")
        if path.name in test.read_text(encoding="utf-8")
    )


def _under(path: Path, directory: Path) -> bool:
    return path.resolve().is_relative_to(directory.resolve())


def _check_text(fence: Fence, kind: str, text: str, context: Context) -> str:
    root, snippets = context.root, context.snippets
    if kind == "python":
        eval_example: EvalExample = context.fixture("eval_example")
        return check_python.check_inline_python(fence, eval_example)
    if kind == "sql":
        database_url: URL = context.fixture("guard_database_url")
        return check_sql.check_sql(fence, database_url)
    if kind == "shell":
        return check_shell.check_shell(fence, root, lambda: context.fixture("guard_service"))
    if kind in {"json", "http"}:
        service: FastAPI = context.fixture("guard_service")
        if kind == "http":
            return check_json.check_http(fence, service)
        return check_json.check_json(fence, text, service)
    if kind == "dotenv":
        complete = (fence.title or "").endswith(".env.example")
        return check_config.check_dotenv(fence, text, complete)
    if kind == "toml":
        return check_config.check_toml(fence, text, root, snippets)
    if kind == "yaml":
        return check_config.check_yaml(fence, text, root, snippets)
    if kind == "ini":
        return check_config.check_ini(fence, text, root, snippets)
    if kind == "dockerfile":
        return check_config.check_dockerfile(fence, text, snippets)
    if kind == "mermaid":
        return check_mermaid.check_mermaid(fence)
    if kind == "tree":
        return check_tree.check_tree(fence, root, snippets)
    raise AssertionError(f"no checker for kind {kind}")  # classify() returns only kinds handled above
