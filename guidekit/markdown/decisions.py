"""The Decisions page's tables, row by row: the one reader of `docs/decisions.md` as data.

Each row of its tables names an old way and a new way in code spans and links, in its last cell
("Shown in"), to the sections that show the new way. The search index weighs a row's names on the
sections it links to (`guidekit.site.search_index.add_decisions`), and the generated search
queries expect those pages for them (`guidekit.site.search_generated`).
"""

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from guidekit.markdown.inline import CODE_SPAN

DECISIONS_PAGE = "decisions.md"

# What decides where a table row's cells end, as Python-Markdown's tables extension reads a row:
# an escaped backslash (`\\`, which escapes nothing after it), an escaped run of backticks, a run
# of backticks, an escaped pipe, a pipe.
_ROW_TOKEN = re.compile(r"(\\\\)|(\\`+)|(`+)|(\\\|)|(\|)")
# A link's target: a page (relative to the Decisions page), an optional anchor, an optional title.
_LINK_TARGET = re.compile(r"\]\((?P<path>[^)#\s]*)(?:#(?P<anchor>[^)\s]*))?(?:\s+\"[^\"]*\")?\)")


@dataclass(frozen=True)
class Link:
    """Where a row points: a page (source path) and, if the link names one, a heading's anchor."""

    page: str
    anchor: str = ""


@dataclass(frozen=True)
class DecisionRow:
    """One row: the names in its "Old way" and "New way" cells, and the sections it links to."""

    names: tuple[str, ...]
    links: tuple[Link, ...]


def _code_regions(runs: list[tuple[int, int, int, int]]) -> list[tuple[int, int]]:
    """The stretches of a row inside code spans, from its backtick runs (size, start, end, escaped).

    A run opens a span and the next run of its size closes it, escaped or not; an escaped run
    opens with one backtick fewer (an escaped single backtick opens nothing).
    """
    regions, index = [], 0
    while index < len(runs):
        size = runs[index][0] - runs[index][3]
        close = next((later for later in range(index + 1, len(runs)) if runs[later][0] == size), None)
        if size and close is not None:
            regions.append((runs[index][1], runs[close][2]))
            index = close + 1
        else:
            index += 1
    return regions


def cells_of(line: str) -> list[str]:
    """A table line cut at its cell borders as Python-Markdown's tables cut it: at each pipe that is
    neither escaped nor inside a code span (`X | None` is one cell)."""
    runs: list[tuple[int, int, int, int]] = []
    pipes: list[int] = []
    for token in _ROW_TOKEN.finditer(line):
        if token[2]:
            runs.append((len(token[2]) - 1, token.start(2), token.end(2) - 1, 1))
        elif token[3]:
            runs.append((len(token[3]), token.start(3), token.end(3) - 1, 0))
        elif token[5]:
            pipes.append(token.start(5))
    regions = _code_regions(runs)
    cells, start = [], 0
    for pipe in pipes:
        if not any(first <= pipe <= last for first, last in regions):
            cells.append(line[start:pipe])
            start = pipe + 1
    cells.append(line[start:])
    return cells


def decision_rows(text: str) -> Iterator[DecisionRow]:
    """Each row of the page's tables (header and divider rows left out), in page order.

    A link with no page (`[below](#case-insensitive-email)`) points into the Decisions page itself.
    """
    for line in text.splitlines():
        cells = [cell.strip() for cell in cells_of(line.strip())[1:-1]]
        if len(cells) < 4 or set(cells[0]) <= {"-", " ", ":"} or cells[0] == "Old way":
            continue
        names = tuple(dict.fromkeys(match["code"].strip() for cell in cells[:2] for match in CODE_SPAN.finditer(cell)))
        links = tuple(
            Link(posixpath.normpath(match["path"]) if match["path"] else DECISIONS_PAGE, match["anchor"] or "")
            for match in _LINK_TARGET.finditer(cells[-1])
        )
        yield DecisionRow(names, links)
