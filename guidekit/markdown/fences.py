"""Find every fenced code block on every page, the way the site's Markdown sees them.

Fences may be opened with backticks or tildes and may sit at any indentation: inside
admonitions, `pymdownx.details` blocks, content tabs and list items. Guard markers are
HTML comments on the lines right above a fence (blank lines between are allowed), so
they never show on the rendered page.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

OPENING = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*?)[ \t]*$")
MARKER = re.compile(r"^\s*<!--\s*guard:\s*(?P<name>[a-z-]+)\s*(?P<value>.*?)\s*-->\s*$")
LANGUAGE_ALIASES = {
    "py": "python",
    "python3": "python",
    "sh": "bash",
    "shell": "bash",
    "zsh": "bash",
    "shell-session": "console",
    "yml": "yaml",
    "postgresql": "sql",
    "pgsql": "sql",
    "env": "dotenv",
    "docker": "dockerfile",
    "txt": "text",
    "plain": "text",
    "jsonc": "json",
    "cfg": "ini",
}


@dataclass
class Fence:
    """One fenced block: where it is, what it claims to be, what it contains."""

    page: Path
    """The page, relative to the docs directory."""
    line: int
    """The 1-based line of the opening fence."""
    info: str
    """The info string after the opening fence, e.g. `python title="main.py"`."""
    body: str
    """The content with the fence's own indentation removed."""
    markers: dict[str, str] = field(default_factory=dict)
    """Guard markers written above the fence: `skip <reason>`, `raises <Exception>`."""
    end: int = 0
    """The 1-based line of the closing fence (the page's last line when the fence is never closed)."""
    indent: str = ""
    closed: bool = True
    """False for a fence never closed: Markdown then shows it as text, not as a code block."""
    """The whitespace before the opening fence (inside an admonition, a tab, a list item)."""

    @property
    def language(self) -> str:
        """The fence's language, lower-case and with aliases resolved (`py` is `python`)."""
        match = re.match(r"\{?\s*\.?([\w+-]*)", self.info)
        word = match.group(1).lower() if match else ""
        return LANGUAGE_ALIASES.get(word, word)

    @property
    def where(self) -> str:
        """`page.md:line`, the way every message names a fence."""
        return f"{self.page.as_posix()}:{self.line}"

    @property
    def title(self) -> str | None:
        """The `title="..."` attribute, which often names the file a block shows."""
        match = re.search(r'title="([^"]*)"', self.info)
        return match.group(1) if match else None


def parse_page(text: str, page: Path) -> list[Fence]:
    """Every fence of one page, in order."""
    lines = text.splitlines()
    fences: list[Fence] = []
    index = 0
    while index < len(lines):
        opening = OPENING.match(lines[index])
        if not opening or (opening["fence"][0] == "`" and "`" in opening["info"]):
            index += 1
            continue
        indent = len(opening["indent"].expandtabs(4))
        fence_chars = opening["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence_chars[0])}{{{len(fence_chars)},}}[ \t]*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        body = "\n".join(_dedent(line, indent) for line in lines[index + 1 : end])
        fence = Fence(
            page,
            index + 1,
            opening["info"],
            body + "\n" if body else "",
            _markers_above(lines, index),
            end=min(end + 1, len(lines)),
            indent=opening["indent"],
            closed=end < len(lines),
        )
        fences.append(fence)
        index = end + 1
    return fences


def _dedent(line: str, indent: int) -> str:
    expanded = line.expandtabs(4)
    removable = len(expanded) - len(expanded.lstrip(" "))
    return expanded[min(indent, removable) :]


def _markers_above(lines: list[str], index: int) -> dict[str, str]:
    markers: dict[str, str] = {}
    above = index - 1
    while above >= 0 and (not lines[above].strip() or MARKER.match(lines[above])):
        if marker := MARKER.match(lines[above]):
            markers.setdefault(marker["name"], marker["value"])
        above -= 1
    return markers


def pages(docs_dir: Path) -> Iterator[Path]:
    """Every Markdown page under the docs directory, in a stable order."""
    yield from sorted(docs_dir.rglob("*.md"))


def all_fences(docs_dir: Path) -> list[Fence]:
    """Every fence of every page under `docs_dir`."""
    return [
        fence
        for page in pages(docs_dir)
        for fence in parse_page(page.read_text(encoding="utf-8"), page.relative_to(docs_dir))
    ]
