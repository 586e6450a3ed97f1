"""The Decisions page's tables, row by row: the one reader of `docs/decisions.md` as data.

Each row of its tables names an old way and a new way in code spans and links, in its last cell
("Shown in"), to the sections that show the new way. The search index weighs a row's names on the
sections it links to (`guidekit.site.search_index.add_decisions`), and the generated search
queries expect those pages for them (`guidekit.site.search_generated`).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

DECISIONS_PAGE = "decisions.md"

_CODE_SPAN = re.compile(r"(`+)(?P<code>.+?)\1")
# A cell border: a `|` that is not escaped; one inside a code span (`X | None`) is the code's.
_CELL_BORDER = re.compile(r"(?<!\\)\|")
_LINK_TARGET = re.compile(r"\]\((?P<path>[^)#\s]*)(?:#(?P<anchor>[^)\s]*))?\)")


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


def cells_of(line: str) -> list[str]:
    """A table line cut at its cell borders, as Python-Markdown's tables cut it: not inside code spans."""
    cells, start, position = [], 0, 0
    for span in [*_CODE_SPAN.finditer(line), None]:
        end = span.start() if span else len(line)
        for border in _CELL_BORDER.finditer(line, position, end):
            cells.append(line[start : border.start()])
            start = border.end()
        position = span.end() if span else end
    cells.append(line[start:])
    return cells


def decision_rows(text: str) -> Iterator[DecisionRow]:
    """Each row of the page's tables (header and divider rows left out), in page order.

    A link with no page (`[below](#case-insensitive-email)`) points into the Decisions page itself.
    """
    for line in text.splitlines():
        cells = [cell.strip() for cell in cells_of(line)[1:-1]]
        if len(cells) < 4 or set(cells[0]) <= {"-", " ", ":"} or cells[0] == "Old way":
            continue
        names = tuple(dict.fromkeys(match["code"].strip() for cell in cells[:2] for match in _CODE_SPAN.finditer(cell)))
        links = tuple(
            Link(match["path"] or DECISIONS_PAGE, match["anchor"] or "") for match in _LINK_TARGET.finditer(cells[-1])
        )
        yield DecisionRow(names, links)
