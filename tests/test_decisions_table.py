"""The Decisions page's tables read as rows (`guidekit.markdown.decisions`)."""

import markdown
import pytest
from markdown.extensions.tables import TableProcessor

from guidekit.markdown.decisions import DECISIONS_PAGE, DecisionRow, Link, cells_of, decision_rows
from guidekit.paths import DOCS

TABLE = """\
| Old way | New way | Why | Shown in |
| --- | --- | --- | --- |
| `Optional[X]` | `X | None`, `list[X]`, `X | None` | Short. | [Typing](patterns/models.md#typing), [below](#more) |
| An escaped \\| bar | `text` | Why. | [Columns](./database/rules.md "Columns") |
"""


def test_a_bar_inside_a_code_span_does_not_end_a_cell() -> None:
    assert cells_of("| `X | None` | b \\| c | d |") == ["", " `X | None` ", " b \\| c ", " d ", ""]


@pytest.mark.parametrize(
    "row",
    [
        "| `X | None` | b \\| c | d |",
        "| a \\` b | c ` d | e |",  # an escaped backtick opens no code span
        "| a\\\\| b |",  # an escaped backslash escapes no pipe
        "| ``a ` | b`` | c |",  # a span closes only at a run of its own length
        "| `a`` | b | c` |",
        "| \\``a|b` | c |",  # an escaped run opens with one backtick fewer
    ],
)
def test_a_row_is_cut_where_python_markdowns_tables_cut_it(row: str) -> None:
    """Python-Markdown's own row splitter (a private method: the oracle here, not used by the code)."""
    tables = TableProcessor(markdown.Markdown().parser, {"use_align_attribute": False})
    assert cells_of(row) == tables._split(row)  # type: ignore[attr-defined]  # not in the stubs


def test_each_row_gives_its_names_once_and_its_links() -> None:
    assert list(decision_rows(TABLE)) == [
        DecisionRow(
            ("Optional[X]", "X | None", "list[X]"),
            (Link("patterns/models.md", "typing"), Link(DECISIONS_PAGE, "more")),
        ),
        DecisionRow(("text",), (Link("database/rules.md"),)),
    ]


def test_every_row_of_the_real_page_names_something_and_links_somewhere() -> None:
    rows = list(decision_rows((DOCS / DECISIONS_PAGE).read_text(encoding="utf-8")))
    assert len(rows) > 30
    assert all(row.names and row.links for row in rows), [row for row in rows if not (row.names and row.links)]
    # The Pydantic row keeps `X | None` whole: its `|` is inside the code span.
    assert any("X | None" in row.names for row in rows)
