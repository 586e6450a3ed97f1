"""The site's one include grammar: `--8<--` lines as pymdownx.snippets reads them, and what they show.

pymdownx.snippets (configured in `mkdocs.yml`) expands the includes when a page is built. It stops
on a missing file or section without saying which page asked for it, and it silently drops any
page line that holds a section marker. So the build checks every include first
(`problems_with`, `swallowed_lines`), and the fence guard resolves each included region
(`resolve`) to verify what it shows. Both read the grammar below, which follows the extension's:

- a one-line include: `--8<-- "path"` or `--8<-- 'path'` (a leading `;` escapes it);
- a block of includes: a `--8<--` line, one path per line, a `--8<--` line;
- `path:name` shows the section between `--8<-- [start:name]` and `--8<-- [end:name]`
  (names as the extension takes them: a letter, then letters, digits, `-` and `_`);
- `path:1:20` (line numbers) is refused here: numbers drift when the file changes.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from guidekit.markdown.fences import parse_page
from guidekit.markdown.inline import CODE_SPAN

# A line pymdownx.snippets treats as a one-line include: `--8<-- "path"` (an escaping `;` opts out).
INCLUDE = re.compile(r"""^[ \t]*(?P<escape>;*)-{1,}8<-{1,}[ \t]+(?P<quote>["'])(?P<target>.+?)(?P=quote)\r?$""")
# A line that opens or closes a block of includes, one path per line.
BLOCK_MARKER = re.compile(r"^[ \t]*-{1,}8<-{1,}\r?$")
LINE_RANGE = re.compile(r":-?\d*(:-?\d*)?(,-?\d*(:-?\d*)?)*$")
SECTION_NAME = r"[a-z][-_0-9a-z]*"
# A section marker in an included file. Like the extension, it is recognised in any case (such a line is
# never shown), but only a lower-case `start`/`end` opens or closes a section; `;` before it escapes it:
# the line is shown, one `;` shorter.
SECTION_MARKER = re.compile(
    r"(?<![;-])(?P<escape>;*)-{1,}8<-{1,}[ \t]+"
    rf"\[[ \t]*(?P<kind>start|end)[ \t]*:[ \t]*(?P<name>{SECTION_NAME})[ \t]*\]",
    re.IGNORECASE,
)
# A section marker as the extension finds it in a page line (anywhere in it); `;` escapes it.
PAGE_SECTION_MARKER = re.compile(
    rf"(?<![;-])-+8<-+[ \t]+\[[ \t]*(start|end)[ \t]*:[ \t]*{SECTION_NAME}[ \t]*\]", re.IGNORECASE
)
SCISSORS = re.compile(r"(?<![;-])-+8<-+")

# What the snippets extension acts on: a section marker anywhere in a line, an include or a block
# marker at its start.
_SNIPPET_LINE = re.compile(
    r"^([ \t]*)(;*-+8<-+(?:[ \t]|$))|^(.*?)(;*-+8<-+[ \t]+\[[ \t]*(?:start|end)[ \t]*:)", re.IGNORECASE
)


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


def sections_in(text: str) -> dict[str, set[str]]:
    """Map each section name in a file to the marker kinds found for it (`start`, `end`)."""
    found: dict[str, set[str]] = {}
    for match in SECTION_MARKER.finditer(text):
        if not match["escape"] and match["kind"] in {"start", "end"}:
            found.setdefault(match["name"], set()).add(match["kind"])
    return found


def split_target(target: str) -> tuple[str, str | None]:
    """Split `app/x.py:name` into the path and the section name (`None` for a whole file)."""
    path, colon, section = target.rpartition(":")
    if colon and re.fullmatch(SECTION_NAME, section, flags=re.IGNORECASE):
        return path, section
    return target, None


def include_targets(markdown: str) -> list[tuple[int, str]]:
    """Every include on a page (or in a fence's body) as `(line number, target)`, in order."""
    targets: list[tuple[int, str]] = []
    in_block = False
    for number, line in enumerate(markdown.splitlines(), start=1):
        if BLOCK_MARKER.match(line):
            in_block = not in_block
            continue
        if in_block:
            target = line.strip()
            if target and not target.startswith(";"):
                targets.append((number, target))
            continue
        match = INCLUDE.match(line)
        if match and not match["escape"]:
            targets.append((number, match["target"].strip()))
    return targets


def fence_includes(body: str) -> list[str] | None:
    """The targets of a fence made only of includes (either form); None when it holds anything else."""
    in_block = False
    for line in body.splitlines():
        if BLOCK_MARKER.match(line):
            in_block = not in_block
        elif line.strip() and not in_block and not ((match := INCLUDE.match(line)) and not match["escape"]):
            return None
    return [target for _, target in include_targets(body)] or None


def unexpanded_includes(text: str) -> list[str]:
    """Lines of a rendered code block that the snippets extension should have replaced with a file."""
    return [line for line in text.splitlines() if INCLUDE.match(line) or BLOCK_MARKER.match(line)]


def has_include(body: str) -> bool:
    """Whether any line of a fence is an include line."""
    return bool(include_targets(body))


def swallowed_lines(markdown: str) -> list[tuple[int, str]]:
    """Page lines the build would drop or that only look like includes, as `(line number, fix)`.

    A section marker drops its line wherever it is, except in a block of includes (`--8<--`
    lines around one path a line), where the extension reads it as a path and `include_targets`
    reports it as one. Outside code blocks and backticks, an unescaped `--8<--` must start an
    include line: anywhere else it is one word away from a dropped line, or a typo of an include.
    """
    fence_edges: set[int] = set()
    in_fence: set[int] = set()
    for fence in parse_page(markdown, Path("page.md")):
        fence_edges |= {fence.line, fence.end} if fence.closed else {fence.line}
        in_fence |= set(range(fence.line + 1, fence.end + (0 if fence.closed else 1)))
    problems: list[tuple[int, str]] = []
    in_block = False
    for number, line in enumerate(markdown.splitlines(), start=1):
        if number in fence_edges:
            continue
        if in_block:  # every line is a path here, checked with the other include targets
            in_block = not BLOCK_MARKER.match(line)
            continue
        if marker := PAGE_SECTION_MARKER.search(line):
            problems.append(
                (
                    number,
                    f"the snippets extension drops this line: it reads `{marker[0]}` as a section marker. "
                    "Reword the line, or write `;--8<--` there to show the marker as written.",
                )
            )
        elif BLOCK_MARKER.match(line):
            in_block = True
        elif number not in in_fence and not INCLUDE.match(line) and SCISSORS.search(CODE_SPAN.sub("", line)):
            problems.append(
                (
                    number,
                    "`--8<--` in a line that is not an include: only a line that starts with "
                    '`--8<-- "path"` includes, and with a `[start:name]` after it the line is dropped. '
                    "Reword it, or put it in backticks to show it.",
                )
            )
    return problems


def problems_with(target: str, base: Path) -> str | None:
    """What is wrong with one include target and how to fix it, or `None` if it resolves."""
    try:
        resolve(target, [base])
    except IncludeError as error:
        return str(error)
    return None


def resolve(target: str, bases: list[Path]) -> Region:
    """The region an include target shows; raises IncludeError saying what is wrong and how to fix it."""
    if LINE_RANGE.search(target):
        raise IncludeError(
            f'"{target}" includes by line numbers, which drift when the file changes. '
            f"Wrap the lines in `--8<-- [start:name]` / `--8<-- [end:name]` and include `path:name`."
        )
    path_text, section = split_target(target)
    path = next((base / path_text for base in bases if (base / path_text).is_file()), None)
    if path is None:
        where = " or ".join(f"{base}/" for base in bases)
        raise IncludeError(f'"{target}": no file {path_text} under {where}. Fix the path; it is relative to {where}.')
    source = path.read_text(encoding="utf-8").splitlines()
    if section is None:
        numbers = [n for n, line in enumerate(source, 1) if not _is_hidden_marker(line)]
        return Region(path, None, tuple(numbers), "".join(_shown(source[n - 1]) + "\n" for n in numbers))
    found = sections_in("\n".join(source))
    kinds = found.get(section, set())
    if not kinds:
        known = ", ".join(sorted(found)) or "none"
        raise IncludeError(
            f'"{target}": section "{section}" is not in {path_text} (its sections: {known}). '
            f"Fix the name, or wrap the code in `--8<-- [start:{section}]` ... `--8<-- [end:{section}]`."
        )
    if kinds != {"start", "end"}:
        missing = ({"start", "end"} - kinds).pop()
        raise IncludeError(
            f'"{target}": section "{section}" in {path_text} has no `[{missing}:{section}]` marker. Add it.'
        )
    starts = [n for n, line in enumerate(source, 1) if _is_mark(line, "start", section)]
    ends = [n for n, line in enumerate(source, 1) if _is_mark(line, "end", section)]
    numbers = [
        n
        for start, end in zip(starts, ends, strict=False)
        for n in range(start + 1, end)
        if not _is_hidden_marker(source[n - 1])
    ]
    return Region(path, section, tuple(numbers), "".join(_shown(source[n - 1]) + "\n" for n in numbers))


def _is_mark(line: str, kind: str, name: str) -> bool:
    mark = SECTION_MARKER.search(line)
    return bool(mark and not mark["escape"] and mark["kind"] == kind and mark["name"] == name)


def _is_hidden_marker(line: str) -> bool:
    """A section marker line the extension leaves out of what it shows (any unescaped marker)."""
    mark = SECTION_MARKER.search(line)
    return bool(mark and not mark["escape"])


def _shown(line: str) -> str:
    """A line as the extension shows it: an escaped marker loses one `;`."""
    mark = SECTION_MARKER.search(line)
    if mark and mark["escape"]:
        return line[: mark.start()] + line[mark.start() + 1 :]
    return line


def escape_snippet_syntax(code: str) -> str:
    """The snippets extension reads this page too: one more `;` before its scissors shows a line as written.

    Unescaped, a test that mentions a section marker would lose that line on the page.
    """

    def escape(match: re.Match[str]) -> str:
        return f"{match[1]};{match[2]}" if match[2] else f"{match[3]};{match[4]}"

    return "\n".join(_SNIPPET_LINE.sub(escape, line, count=1) for line in code.split("\n"))
