"""The Markdown table the generators write, with `|` escaped where it would split a cell."""

from collections.abc import Iterable


def table(rows: Iterable[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """A Markdown table. A `|` needs no escape inside a code span, where a backslash would show."""
    cells = [header, tuple("---" for _ in header), *rows]
    return "\n".join("| " + " | ".join(escape_pipes(cell) for cell in row) + " |" for row in cells)


def escape_pipes(cell: str) -> str:
    """Escape the `|` outside code spans, so they do not split the cell."""
    parts = cell.split("`")
    return "`".join(part if index % 2 else part.replace("|", "\\|") for index, part in enumerate(parts))
