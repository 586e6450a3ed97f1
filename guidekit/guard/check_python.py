"""Inline Python: linted and format-checked with ruff, run with pytest-examples.

Printed output shown as `#>` lines must match, and each `#>` group must belong to a
`print` that really ran (pytest-examples alone passes a `#>` whose print never runs).
A block marked `<!-- guard: raises NameOfError -->` must raise that exception.
"""

import ast
import inspect
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from pytest_examples import CodeExample, EvalExample

from guidekit.guard.errors import FenceError
from guidekit.guard.tools import require_tool
from guidekit.markdown.fences import Fence

OUTPUT_LINE = re.compile(r"^\s*#> ", re.MULTILINE)


def check_inline_python(fence: Fence, eval_example: EvalExample) -> str:
    """Lint, format-check and run one inline Python fence; returns what was verified."""
    example = CodeExample.create(fence.body, path=fence.page, start_line=fence.line)
    eval_example.set_config(line_length=120, quotes="double", target_version="py310", ruff_line_length=120)
    try:
        eval_example.lint_ruff(example)
    except BaseException as error:  # pytest-examples fails through pytest's own exception type
        raise FenceError(f"{fence.where}: ruff finds problems in this example:\n{error}") from None
    _check_format(fence)
    expected_error = fence.markers.get("raises")
    if expected_error:
        _check_raises(fence, eval_example, example, expected_error)
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
    except BaseException as error:
        raise FenceError(
            f"{fence.where}: the example failed when run (or its `#>` output differs):\n{type(error).__name__}: {error}"
        ) from None
    _check_every_output_printed(fence, ran_lines)
    return "ran; output checked" if OUTPUT_LINE.search(fence.body) else "ran"


def _check_format(fence: Fence) -> None:
    completed = subprocess.run(
        [require_tool("ruff"), "format", "--diff", "--line-length", "120", "-"],
        input=OUTPUT_LINE.sub(lambda match: match[0].replace("#>", "# >"), fence.body),  # ruff writes `#>` as `# >`
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise FenceError(f"{fence.where}: not formatted as `ruff format` would write it:\n{completed.stdout}")


def _check_raises(fence: Fence, eval_example: EvalExample, example: CodeExample, expected: str) -> None:
    try:
        eval_example.run(example)
    except Exception as error:  # the example's own exception, whatever it is
        names = {cls.__name__ for cls in type(error).__mro__} | {
            f"{cls.__module__}.{cls.__qualname__}" for cls in type(error).__mro__
        }
        if expected not in names:
            raise FenceError(
                f"{fence.where}: the page says this raises {expected}, but it raised {type(error).__name__}: {error}"
            ) from None
        return
    raise FenceError(f"{fence.where}: the page says this raises {expected}, but it ran without an error")


def _check_every_output_printed(fence: Fence, ran_lines: set[int]) -> None:
    lines = fence.body.splitlines()
    print_spans = [
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(ast.parse(fence.body))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
    ]
    for number, line in enumerate(lines, 1):
        if not OUTPUT_LINE.match(line) or (number > 1 and OUTPUT_LINE.match(lines[number - 2])):
            continue
        owners = [span for span in print_spans if span[1] == number - 1]
        page_line = fence.line + number
        if not owners:
            raise FenceError(
                f"{fence.page.as_posix()}:{page_line}: `#>` output that follows no `print(...)`; "
                "put it right under the print that writes it"
            )
        if not any(start <= ran <= end for start, end in owners for ran in ran_lines):
            raise FenceError(
                f"{fence.page.as_posix()}:{page_line}: the `print` above this `#>` output never ran, "
                "so the output shown was never printed; fix the example or drop the output"
            )
