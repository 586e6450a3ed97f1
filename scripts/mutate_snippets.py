"""Mutation check of the code the site shows: break included lines one at a time, run the tests.

    uv run python scripts/mutate_snippets.py --basetemp DIR [--sample N] [--seed S] [--budget SECONDS]

Every Python region a page includes (`--8<-- "file.py:section"`) from the service's code (test
code shown on pages is left alone: breaking a test only proves that test) is mutated statement by
statement: a comparison flipped, a statement dropped, a constant changed, a status code
swapped, `and`/`or` exchanged. For each mutant only the service tests that ran the mutated
line are run (found once, up front, from coverage with per-test contexts); lines that ran
at import time run the whole service suite. A mutant is caught when a test fails or times
out. The script prints the share caught and lists every survivor with its diff, so tests can
be strengthened where mutants live. Files are restored after every mutant. Every pytest it starts
gets `--basetemp` under DIR: without one, pytest makes /tmp/pytest-of-<user> private to this run.
"""

import argparse
import ast
import io
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path

from coverage.data import CoverageData

from guidekit.markdown.fences import all_fences  # the guard's own parser
from guidekit.markdown.includes import Region, fence_includes, resolve
from guidekit.paths import ROOT, SNIPPETS

FLIPPED_OPERATORS = {
    "==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">",
    "is": "is not", "in": "not in", "and": "or", "or": "and",
}  # fmt: skip
STATUS_SWAPS = {"200": "201", "201": "200", "204": "200", "404": "400", "409": "400", "422": "400", "503": "500"}
# Generous, so a slow shared machine does not pass for a caught mutant; timeouts are counted apart.
PER_MUTANT_TIMEOUT = 300


@dataclass(frozen=True)
class Mutant:
    """One small change to one line of an included file."""

    path: Path
    line: int
    kind: str
    before: str
    after: str

    def describe(self) -> str:
        """`file:line kind: before -> after`."""
        where = f"{self.path.relative_to(SNIPPETS)}:{self.line}"
        return f"{where} {self.kind}: {self.before.strip()}  ->  {self.after.strip()}"


def included_regions() -> list[Region]:
    """Every Python region that a page includes."""
    regions: dict[tuple[Path, int], Region] = {}
    for fence in all_fences(ROOT / "docs"):
        targets = fence_includes(fence.body)
        if fence.language == "python" and targets:
            for target in targets:
                region = resolve(target, [SNIPPETS])
                if not region.path.is_relative_to(SNIPPETS / "tests"):  # a broken test only proves itself
                    regions[(region.path, region.lines[0] if region.lines else 0)] = region
    return list(regions.values())


def mutants_of(region: Region) -> list[Mutant]:
    """The mutants of a region's statements, at most one of each kind per line."""
    source = region.path.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    shown = set(region.lines)
    docstrings = {
        node.body[0].value.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found: dict[tuple[int, str], Mutant] = {}

    def add(number: int, kind: str, after: str) -> None:
        before = lines[number - 1]
        if number in shown and number not in docstrings and after != before and (number, kind) not in found:
            mutated = "".join(lines[: number - 1]) + after + "".join(lines[number:])
            if compiles_cleanly(mutated):
                found[(number, kind)] = Mutant(region.path, number, kind, before, after)

    # Annotations are mypy's to check; a test cannot notice `-> 0` in place of `-> None`.
    annotations = {
        id(inner) for node in ast.walk(tree) for annotation in _annotations_of(node) for inner in ast.walk(annotation)
    }
    for node in ast.walk(tree):
        if id(node) in annotations:
            continue
        if isinstance(node, ast.Compare | ast.BoolOp) and node.lineno == node.end_lineno:
            add(
                node.lineno,
                "flip operator",
                _flip_first_operator(lines[node.lineno - 1], node.col_offset, node.end_col_offset or node.col_offset),
            )
        elif isinstance(node, ast.Constant) and node.lineno == node.end_lineno and not isinstance(node.value, str):
            line = lines[node.lineno - 1]
            text = line[node.col_offset : node.end_col_offset]
            replacement = _changed_constant(text, node.value)
            kind = "swap status code" if text in STATUS_SWAPS else "change constant"
            add(node.lineno, kind, line[: node.col_offset] + replacement + line[node.end_col_offset :])
        elif isinstance(node, ast.Attribute) and node.lineno == node.end_lineno and _is_http_status(node):
            line = lines[node.lineno - 1]
            add(
                node.lineno,
                "swap status code",
                line[: node.col_offset] + "HTTPStatus.IM_A_TEAPOT" + line[node.end_col_offset :],
            )
        droppable = ast.Expr | ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Return | ast.Raise | ast.Delete
        bare_return = isinstance(node, ast.Return) and node.value is None
        string_statement = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)  # a docstring
        if isinstance(node, droppable) and node.lineno == node.end_lineno and not (bare_return or string_statement):
            line = lines[node.lineno - 1]
            indent = line[: len(line) - len(line.lstrip())]
            add(node.lineno, "drop statement", f"{indent}pass\n")
    return sorted(found.values(), key=lambda mutant: (str(mutant.path), mutant.line, mutant.kind))


def _annotations_of(node: ast.AST) -> list[ast.expr]:
    """The type annotations a node holds itself (a function's return and arguments, a variable's)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return [node.returns] if node.returns else []
    if isinstance(node, ast.arg | ast.AnnAssign):
        return [node.annotation] if node.annotation else []
    return []


def _flip_first_operator(line: str, start: int, end: int) -> str:
    """Flip the first comparison or boolean operator between columns `start` and `end`.

    `not in` and `is not` are two tokens each: they flip back to `in` and `is`.
    """
    try:
        tokens = [
            token
            for token in tokenize.generate_tokens(io.StringIO(line).readline)
            if start <= token.start[1] and token.end[1] <= end and token.type in {tokenize.OP, tokenize.NAME}
        ]
    except tokenize.TokenError:
        return line  # the line is part of a longer statement
    for token, following in zip(tokens, [*tokens[1:], None], strict=True):
        if token.string == "not" and following is not None and following.string == "in":
            return line[: token.start[1]] + "in" + line[following.end[1] :]
        if token.string == "is" and following is not None and following.string == "not":
            return line[: token.start[1]] + "is" + line[following.end[1] :]
        if token.string in FLIPPED_OPERATORS:
            return line[: token.start[1]] + FLIPPED_OPERATORS[token.string] + line[token.end[1] :]
    return line


def compiles_cleanly(source: str) -> bool:
    """A mutant that is no valid Python, or that Python warns about (`x is 0`), would be caught by
    the compiler, not by a test: such mutants are not made."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            compile(source, "<mutant>", "exec")
        except (SyntaxError, SyntaxWarning):
            return False
    return True


def _changed_constant(text: str, value: object) -> str:
    if text in STATUS_SWAPS:
        return STATUS_SWAPS[text]
    if isinstance(value, bool):
        return str(not value)
    if isinstance(value, int | float):
        return str(value + 1)
    if value is None:
        return "0"
    return text


def _is_http_status(node: ast.Attribute) -> bool:
    return isinstance(node.value, ast.Name) and node.value.id in {"HTTPStatus", "status"}


def tests_by_line(data_file: Path) -> dict[tuple[str, int], set[str]]:
    """Which service tests ran each line, from a coverage run with per-test contexts."""
    data = CoverageData(basename=str(data_file))
    data.read()
    runs: dict[tuple[str, int], set[str]] = {}
    for file in data.measured_files():
        for line, contexts in (data.contexts_by_lineno(file) or {}).items():
            runs[(file, line)] = {context.split("|")[0] for context in contexts}
    return runs


def measure(data_file: Path, basetemp: Path) -> None:
    """Run the service tests once with coverage contexts, so each mutant runs only its tests."""
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={basetemp}", "snippets/tests",
        "--cov=app", "--cov=snippets/tests", "--cov-context=test", "--cov-report=", "--cov-fail-under=0",
    ]  # fmt: skip
    subprocess.run(
        command, cwd=ROOT, env={**os.environ, "COVERAGE_FILE": str(data_file)}, check=True, capture_output=True
    )


def caught(mutant: Mutant, tests: set[str], basetemp: Path) -> str:
    """Apply the mutant, run its tests, restore the file: "failed", "timed out" or "passed"."""
    original = mutant.path.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    lines[mutant.line - 1] = mutant.after
    targets = sorted(tests) if tests and "" not in tests else ["snippets/tests"]
    command = [
        sys.executable, "-m", "pytest", "--no-cov", "-x", "-q", "-p", "no:cacheprovider", f"--basetemp={basetemp}",
        *targets,
    ]  # fmt: skip
    try:
        mutant.path.write_text("".join(lines), encoding="utf-8")
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=PER_MUTANT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return "timed out"
    finally:
        mutant.path.write_text(original, encoding="utf-8")
    return "failed" if completed.returncode != 0 else "passed"


def main() -> None:
    """Mutate, run, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=0, help="mutate only N mutants drawn at random (0: all)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random sample")
    parser.add_argument(
        "--from-end", action="store_true", help="run the sample last mutant first (a second process can share a sample)"
    )
    parser.add_argument("--budget", type=float, default=1800, help="stop starting new mutants after this many seconds")
    parser.add_argument(
        "--basetemp", type=Path, required=True, help="a directory of your own; pytest's temporary files go under it"
    )
    args = parser.parse_args()
    args.basetemp.mkdir(parents=True, exist_ok=True)  # pytest makes the basetemp, not its parents
    # A kill (`timeout`, CI) unwinds like Ctrl-C, so the mutated file is restored.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    # Two pages may include overlapping regions of one file: each mutant counts once.
    mutants = sorted(
        {mutant for region in included_regions() for mutant in mutants_of(region)},
        key=lambda m: (str(m.path), m.line, m.kind),
    )
    total = len(mutants)
    if args.sample and args.sample < total:
        sampler = random.Random(args.seed)  # noqa: S311  # a reproducible sample, not a secret
        mutants = sorted(sampler.sample(mutants, args.sample), key=lambda m: (str(m.path), m.line))
    if args.from_end:
        mutants.reverse()
    print(f"{total} mutants of included lines; running {len(mutants)}", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        data_file = Path(scratch) / ".coverage"
        measure(data_file, args.basetemp / "measure")
        runs = tests_by_line(data_file)
    started = time.monotonic()
    results: list[tuple[Mutant, str]] = []
    for mutant in mutants:
        if time.monotonic() - started > args.budget:
            print(f"time budget of {args.budget:.0f} s spent; stopping", flush=True)
            break
        tests = runs.get((str(mutant.path.resolve()), mutant.line), set())
        # A line no test runs: nothing can catch it.
        outcome = caught(mutant, tests, args.basetemp / "mutant") if tests else "passed"
        results.append((mutant, outcome))
        print(f"{'SURVIVED' if outcome == 'passed' else 'caught  '}  ({outcome})  {mutant.describe()}", flush=True)
    killed = sum(1 for _, outcome in results if outcome != "passed")
    timed_out = sum(1 for _, outcome in results if outcome == "timed out")
    print(
        f"\n{killed}/{len(results)} mutants caught ({killed / max(len(results), 1):.1%}), of {total} possible;"
        f" {timed_out} of them by a timeout of {PER_MUTANT_TIMEOUT} s, seed {args.seed}"
    )
    for mutant, outcome in results:
        if outcome == "passed":
            print(f"survivor: {mutant.describe()}")


if __name__ == "__main__":
    main()
