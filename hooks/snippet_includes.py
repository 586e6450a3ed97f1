"""MkDocs hook: check every `--8<--` include before pymdownx.snippets expands it.

pymdownx.snippets stops the build on a missing file or section but does not say which page
asked for it. This hook names the page and line, the file, the section, and the fix.

It also stops the build on a page line the extension would drop without a word: it removes
every line of a page that holds a section marker (`--8<--` followed by `[start:name]`), prose
and code blocks alike.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

# A line pymdownx.snippets treats as a one-line include: `--8<-- "path"` (an escaping `;` opts out).
INCLUDE = re.compile(r"""^[ \t]*(?P<escape>;*)-{1,}8<-{1,}[ \t]+(?P<quote>["'])(?P<target>.+?)(?P=quote)\r?$""")
# A line that opens or closes a block of includes, one path per line.
BLOCK_MARKER = re.compile(r"^[ \t]*-{1,}8<-{1,}\r?$")
LINE_RANGE = re.compile(r":-?\d*(:-?\d*)?(,-?\d*(:-?\d*)?)*$")
SECTION_MARKER = re.compile(
    r"-{1,}8<-{1,}[ \t]+\[[ \t]*(?P<kind>start|end)[ \t]*:[ \t]*(?P<name>[a-z][-_0-9a-z]*)[ \t]*\]"
)

# A section marker as pymdownx.snippets finds it in a page line (anywhere in it); `;` escapes it.
PAGE_SECTION_MARKER = re.compile(
    r"(?<![;-])-+8<-+[ \t]+\[[ \t]*(start|end)[ \t]*:[ \t]*[a-z][-_0-9a-z]*[ \t]*\]", re.IGNORECASE
)
SCISSORS = re.compile(r"(?<![;-])-+8<-+")
CODE_SPAN = re.compile(r"(`+).+?\1")
FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})(?P<rest>.*)$")


def sections_in(text: str) -> dict[str, set[str]]:
    """Map each section name in a file to the marker kinds found for it (`start`, `end`)."""
    found: dict[str, set[str]] = {}
    for match in SECTION_MARKER.finditer(text):
        found.setdefault(match["name"], set()).add(match["kind"])
    return found


def split_target(target: str) -> tuple[str, str | None]:
    """Split `app/x.py:name` into the path and the section name (`None` for a whole file)."""
    path, colon, section = target.rpartition(":")
    if colon and re.fullmatch(r"[a-z][-_0-9a-z]*", section, flags=re.IGNORECASE):
        return path, section
    return target, None


def include_targets(markdown: str) -> list[tuple[int, str]]:
    """Every include on a page as `(line number, target)`, in page order."""
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


def swallowed_lines(markdown: str) -> list[tuple[int, str]]:
    """Page lines the build would drop or that only look like includes, as `(line number, fix)`.

    A section marker drops its line wherever it is, except in a block of includes (`--8<--`
    lines around one path a line), where the extension reads it as a path and `include_targets`
    reports it as one. Outside code blocks and backticks, an unescaped `--8<--` must start an
    include line: anywhere else it is one word away from a dropped line, or a typo of an include.
    """
    problems: list[tuple[int, str]] = []
    fence = ""
    in_block = False
    for number, line in enumerate(markdown.splitlines(), start=1):
        if match := FENCE.match(line):
            if not fence:
                fence = match["fence"]
                continue
            if match["fence"][0] == fence[0] and len(match["fence"]) >= len(fence) and not match["rest"].strip():
                fence = ""
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
        elif not (fence or INCLUDE.match(line)) and SCISSORS.search(CODE_SPAN.sub("", line)):
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
    if LINE_RANGE.search(target):
        return (
            f'"{target}" includes by line numbers, which drift when the file changes. '
            f"Wrap the lines in `--8<-- [start:name]` / `--8<-- [end:name]` and include `path:name`."
        )
    path, section = split_target(target)
    file = base / path
    if not file.is_file():
        return f'"{target}": no file {file}. Fix the path; it is relative to {base}/.'
    if section is None:
        return None
    found = sections_in(file.read_text(encoding="utf-8"))
    kinds = found.get(section, set())
    if kinds == {"start", "end"}:
        return None
    if not kinds:
        known = ", ".join(sorted(found)) or "none"
        return (
            f'"{target}": section "{section}" is not in {file} (its sections: {known}). '
            f"Fix the name, or wrap the code in `--8<-- [start:{section}]` ... `--8<-- [end:{section}]`."
        )
    missing = ({"start", "end"} - kinds).pop()
    return f'"{target}": section "{section}" in {file} has no `[{missing}:{section}]` marker. Add it.'


def snippet_base(config: MkDocsConfig) -> Path:
    """The first `base_path` of pymdownx.snippets, where include paths start."""
    options: dict[str, Any] = config.mdx_configs.get("pymdownx.snippets", {})
    bases = options.get("base_path", ["."])
    first = bases[0] if isinstance(bases, list) else bases
    return Path(config.config_file_path).parent / str(first)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fail the build on the first page with a broken include or a line the build would drop, listing each."""
    base = snippet_base(config)
    errors = [
        f"docs/{page.file.src_uri}:{number}: {problem}"
        for number, target in include_targets(markdown)
        if (problem := problems_with(target, base)) is not None
    ]
    errors += [f"docs/{page.file.src_uri}:{number}: {problem}" for number, problem in swallowed_lines(markdown)]
    if errors:
        raise PluginError("Broken snippet include(s):\n" + "\n".join(errors))
    return markdown
