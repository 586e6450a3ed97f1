"""Inline Python: linted and format-checked with ruff, run with pytest-examples.

ruff applies the project's own settings (target version, rules): it checks each example as
if it were a Python file in the docs folder, so it finds the configuration the way it does
for any file there. The line length is the service's (snippets/pyproject.toml), as for every
other code block on a page: the one that fits the column. Printed output shown as `#>` lines must match, and each
`#>` group must belong to a `print` that really ran (pytest-examples alone passes a `#>`
whose print never runs). A block marked `<!-- guard: raises NameOfError -->` must raise
that exception.
"""

import ast
import inspect
import re
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from types import FrameType
from typing import Any

from pytest_examples import CodeExample, EvalExample

from guidekit.guard.checker import Checker, Context, FenceError, Shown
from guidekit.guard.tools import require_tool
from guidekit.paths import SNIPPETS

OUTPUT_LINE = re.compile(r"^\s*#> ", re.MULTILINE)


def check(shown: Shown, context: Context) -> str:
    """Lint, format-check and run one inline Python fence; returns what was verified."""
    as_file = context.root / "docs" / shown.page.with_suffix(".py")
    _check_lint(shown, as_file, context.root)
    _check_format(shown, as_file, context.root)
    eval_example: EvalExample = context.fixture("eval_example")
    # pytest-examples wraps printed output at its own width: give it the formatter's.
    eval_example.set_config(line_length=shown_line_length())
    example = CodeExample.create(shown.text, path=shown.page, start_line=shown.line)
    expected_error = shown.markers.get("raises")
    if expected_error:
        _check_raises(shown, eval_example, example, expected_error)
        return f"raises {expected_error}"
    ran_lines: set[int] = set()

    def record_print(file: Path, frame: inspect.FrameInfo, _args: Sequence[Any]) -> bool:
        current: FrameType | None = frame.frame
        while current is not None and not file.samefile(current.f_code.co_filename):
            current = current.f_back
        if current is None:
            return False
        ran_lines.add(current.f_lineno)
        return True

    eval_example.include_print = record_print
    try:
        eval_example.run_print_check(example)
    except BaseException as error:  # pytest-examples fails through pytest's own exception type
        raise FenceError(
            f"{shown.where}: the example failed when run (or its `#>` output differs):\n{type(error).__name__}: {error}"
        ) from None
    _check_every_output_printed(shown, ran_lines)
    return "ran; output checked" if OUTPUT_LINE.search(shown.text) else "ran"


@cache
def ruff_settings(directory: Path) -> dict[str, str]:
    """The settings ruff resolves for a file in `directory` (`ruff check --show-settings`), as text.

    ruff shows the settings of an existing file only; any file of the directory (or, when it holds
    none, of the nearest folder above that does) has the same, since ruff resolves them by folder.
    """
    folders = (folder for folder in (directory, *directory.parents) if folder.is_dir())
    probe = next(min(files) for folder in folders if (files := [path for path in folder.iterdir() if path.is_file()]))
    completed = subprocess.run(
        [require_tool("ruff"), "check", "--show-settings", str(probe)],
        capture_output=True,
        text=True,
        check=True,
    )
    pairs = (line.partition(" = ") for line in completed.stdout.splitlines())
    return {key: value for key, equals, value in pairs if equals}


def shown_line_length() -> int:
    """The service's line length: what the page's column holds, for its code and the pages' alike."""
    return int(ruff_settings(SNIPPETS / "app")["formatter.line_width"])


def _ruff(arguments: list[str], text: str, as_file: Path, root: Path) -> subprocess.CompletedProcess[str]:
    """Run ruff on code read from stdin as the file `as_file`, so the project's settings for that file apply."""
    length = ["--line-length", str(shown_line_length())]
    return subprocess.run(
        [require_tool("ruff"), *arguments, *length, "--stdin-filename", str(as_file), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
        cwd=root,
    )


def _check_lint(shown: Shown, as_file: Path, root: Path) -> None:
    completed = _ruff(["check", "--output-format=concise", "--no-fix"], shown.text, as_file, root)
    if completed.returncode != 0:
        name = re.escape(as_file.relative_to(root).as_posix())
        findings = re.sub(
            rf"^{name}:(\d+):", lambda match: f"{shown.at(int(match[1]))}:", completed.stdout, flags=re.MULTILINE
        )
        raise FenceError(f"{shown.where}: ruff finds problems in this example:\n{findings}{completed.stderr}")


def _check_format(shown: Shown, as_file: Path, root: Path) -> None:
    # ruff writes `#>` as `# >`: compare with the output lines written its way.
    text = OUTPUT_LINE.sub(lambda match: match[0].replace("#>", "# >"), shown.text)
    completed = _ruff(["format", "--diff"], text, as_file, root)
    if completed.returncode != 0:
        raise FenceError(f"{shown.where}: not formatted as `ruff format` would write it:\n{completed.stdout}")


def _check_raises(shown: Shown, eval_example: EvalExample, example: CodeExample, expected: str) -> None:
    try:
        eval_example.run(example)
    except Exception as error:  # the example's own exception, whatever it is
        names = {cls.__name__ for cls in type(error).__mro__} | {
            f"{cls.__module__}.{cls.__qualname__}" for cls in type(error).__mro__
        }
        if expected not in names:
            raise FenceError(
                f"{shown.where}: the page says this raises {expected}, but it raised {type(error).__name__}: {error}"
            ) from None
        return
    raise FenceError(f"{shown.where}: the page says this raises {expected}, but it ran without an error")


def _check_every_output_printed(shown: Shown, ran_lines: set[int]) -> None:
    lines = shown.text.splitlines()
    print_spans = [
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(ast.parse(shown.text))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
    ]
    for number, line in enumerate(lines, 1):
        if not OUTPUT_LINE.match(line) or (number > 1 and OUTPUT_LINE.match(lines[number - 2])):
            continue
        owners = [span for span in print_spans if span[1] == number - 1]
        page_line = shown.at(number)
        if not owners:
            raise FenceError(
                f"{page_line}: `#>` output that follows no `print(...)`; put it right under the print that writes it"
            )
        if not any(start <= ran <= end for start, end in owners for ran in ran_lines):
            raise FenceError(
                f"{page_line}: the `print` above this `#>` output never ran, "
                "so the output shown was never printed; fix the example or drop the output"
            )


CHECKER = Checker(frozenset({"python"}), check)
