"""Resolve `--8<--` include lines the way `pymdownx.snippets` does, by named section."""

import re
from dataclasses import dataclass
from pathlib import Path

INCLUDE_LINE = re.compile(r'^\s*-{1,}8<-{1,}\s+"(?P<target>[^"]+)"\s*$')
SECTION_MARK = re.compile(r"--8<--\s*\[(?P<edge>start|end):(?P<name>[\w-]+)\]")


class IncludeError(Exception):
    """An include that points at a missing file or section, or uses line numbers."""


@dataclass(frozen=True)
class Region:
    """The lines of a source file that one include shows on a page."""

    path: Path
    """The included file."""
    section: str | None
    """The section name, or None for a whole file."""
    lines: tuple[int, ...]
    """1-based line numbers shown, section markers excluded."""
    text: str
    """What the page shows, as the reader sees it."""


def include_targets(body: str) -> list[str] | None:
    """The targets of a fence made only of include lines; None when it holds anything else."""
    lines = [line for line in body.splitlines() if line.strip()]
    matches = [INCLUDE_LINE.match(line) for line in lines]
    if not lines or not all(matches):
        return None
    return [match["target"] for match in matches if match]


def has_include(body: str) -> bool:
    """Whether any line of a fence is an include line."""
    return any(INCLUDE_LINE.match(line) for line in body.splitlines())


def resolve(target: str, base_dirs: list[Path]) -> Region:
    """The region an include target shows; raises IncludeError when it does not exist."""
    path_text, _, section = target.partition(":")
    if section and re.fullmatch(r"[\d:-]+", section):
        raise IncludeError(f'"{target}" includes by line numbers, which drift; wrap the code in a named section')
    path = next((base / path_text for base in base_dirs if (base / path_text).is_file()), None)
    if path is None:
        raise IncludeError(f'"{target}": no file {path_text} under {", ".join(str(b) for b in base_dirs)}')
    source = path.read_text(encoding="utf-8").splitlines()
    if not section:
        numbers = [n for n, line in enumerate(source, 1) if not SECTION_MARK.search(line)]
        return Region(path, None, tuple(numbers), "\n".join(source[n - 1] for n in numbers) + "\n")
    starts = [n for n, line in enumerate(source, 1) if _is_mark(line, "start", section)]
    ends = [n for n, line in enumerate(source, 1) if _is_mark(line, "end", section)]
    if not starts or not ends:
        raise IncludeError(f'"{target}": {path_text} has no section `{section}` (no [start:{section}]/[end:{section}])')
    numbers = [
        n
        for start, end in zip(starts, ends, strict=False)
        for n in range(start + 1, end)
        if not SECTION_MARK.search(source[n - 1])
    ]
    return Region(path, section, tuple(numbers), "\n".join(source[n - 1] for n in numbers) + "\n")


def _is_mark(line: str, edge: str, name: str) -> bool:
    mark = SECTION_MARK.search(line)
    return bool(mark and mark["edge"] == edge and mark["name"] == name)
