"""How `guidekit.site.search_generated` derives each query's expected page, on planted code and pages."""

import logging
from pathlib import Path

import pytest

from guidekit.site.search_generated import GeneratedQuery, QuerySet, generate, route_paths
from guidekit.site.search_score import score

SERVICE = '''\
"""A planted module."""

# --8<-- [start:widgets]
class WidgetStore:
    """Keeps widgets."""

    def first_widget(self) -> None:
        """The first one."""

    def _hidden(self) -> None:
        """Private: never a query."""
# --8<-- [end:widgets]


# --8<-- [start:helpers]
def shared_helper() -> None:
    """Shown on two pages."""


def row() -> None:
    """Shown on two pages; a heading of one holds "row" only inside a word."""


# --8<-- [end:helpers]


def nobody_shows_me() -> None:
    """Defined, but no page includes it."""


# --8<-- [start:head]
LIMIT = 3
# --8<-- [end:head]
'''

CONFIG = '''\
class Settings:
    """Planted settings."""

    planted_timeout_seconds: float = 1.0
'''


@pytest.fixture
def planted(tmp_path: Path) -> QuerySet:
    """A service of two modules and four pages; generated without routes (no real app here)."""
    app = tmp_path / "snippets" / "app"
    app.mkdir(parents=True)
    (app / "widgets.py").write_text(SERVICE)
    (app / "config.py").write_text(CONFIG)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "widgets.md").write_text(
        '# Widgets\n\n## Storing widgets\n\n```python\n--8<-- "app/widgets.py:widgets"\n```\n\n'
        '### `first_widget` in detail { #first }\n\n```python\n--8<-- "app/widgets.py:helpers"\n```\n\n'
        "```markdown\n## Not a heading: inside a fence\n```\n\n"
        "## `planted_timeout_seconds` and _its_ unit\n\n"
        "## Decisions\n\n## Narrow widgets\n\nA stored_text column.\n\n"
        "!!! danger \"Don't\"\n    - Don't call `WidgetStore()` twice (`test_one_store`).\n"
        "    - Don't keep widgets in a global, ever (`test_no_global`).\n"
        "    - Don't compare widgets with `==` (`test_no_equality`).\n\nCall `store.first_widget()` once.\n"
    )
    (docs / "helpers.md").write_text(
        '# The shared_helper page\n\n```python\n--8<-- "app/widgets.py:helpers"\n```\n\n'
        '```python\n--8<-- "app/widgets.py:head"\n```\n\n## Narrow the widgets\n\n## `widget_cache` by hand\n'
    )
    (docs / "settings.md").write_text("# Settings\n\n::: app.config.Settings\n")
    (docs / "decisions.md").write_text(
        "# Decisions\n\n| Old way | New way | Why | Shown in |\n| --- | --- | --- | --- |\n"
        "| `make_widgets()` | `WidgetStore`, `store.first_widget()` and `missing_name` | One store. "
        "| [Widgets](widgets.md#storing-widgets) |\n"
        "| `old_text` | `stored_text` and `widget` | Why. | [Widgets](widgets.md), [below](#stored-text) |\n"
        "| `ancient` | `only_here` | Why. | [below](#only-here) |\n"
        "| `wide` | `widget_cache` and `Narrow` | Why. | [Widgets](widgets.md#storing-widgets) |\n\n"
        "## Only here\n\nWhy `only_here`.\n"
    )
    nav = ["widgets.md", "helpers.md", "settings.md", "decisions.md"]
    return generate(docs=docs, snippets=tmp_path / "snippets", nav=nav, routes=False)


def found(queries: QuerySet, query: str) -> GeneratedQuery:
    match = next((item for item in queries.queries if item.query == query), None)
    assert match, f"{query!r} is no generated query; the queries are {[item.query for item in queries.queries]}"
    return match


def test_a_code_name_expects_the_page_that_includes_its_definition(planted: QuerySet) -> None:
    assert found(planted, "WidgetStore").pages == ("widgets.md",)
    assert found(planted, "first_widget").pages == ("widgets.md",)
    assert found(planted, "LIMIT").pages == ("helpers.md",)


def test_a_name_shown_on_two_pages_expects_the_one_whose_title_names_it(planted: QuerySet) -> None:
    assert found(planted, "shared_helper").pages == ("helpers.md",)


def test_a_settings_field_expects_the_page_that_renders_the_class(planted: QuerySet) -> None:
    assert found(planted, "planted_timeout_seconds") == GeneratedQuery(
        "planted_timeout_seconds", ("settings.md",), "code"
    )


def test_a_name_no_page_shows_is_dropped(planted: QuerySet) -> None:
    queries = {item.query for item in planted.queries}
    assert "nobody_shows_me" not in queries
    assert "_hidden" not in queries
    assert ("nobody_shows_me", "code") in {(item.query, item.source) for item in planted.dropped}


def test_a_heading_expects_its_page_as_plain_text(planted: QuerySet) -> None:
    assert found(planted, "Storing widgets") == GeneratedQuery("Storing widgets", ("widgets.md",), "heading")
    # Backticks and the `{ #id }` go; the same words as a code name make one query, the code's.
    assert found(planted, "first_widget in detail").pages == ("widgets.md",)
    # Underscores inside a code span are the name's, not emphasis.
    assert found(planted, "planted_timeout_seconds and its unit").pages == ("widgets.md",)
    assert "Not a heading: inside a fence" not in {item.query for item in planted.queries}


def test_a_heading_that_is_another_page_title_accepts_that_page_too(planted: QuerySet) -> None:
    assert found(planted, "Decisions").pages == ("widgets.md", "decisions.md")


def test_headings_the_search_reads_as_one_query_accept_each_others_pages(planted: QuerySet) -> None:
    """The search drops "the" from a query, so "Narrow the widgets" and "Narrow widgets" are one query
    to it: no ranking can tell which page the reader meant, and either answers."""
    assert found(planted, "Narrow widgets").pages == ("widgets.md", "helpers.md")
    assert found(planted, "Narrow the widgets").pages == ("helpers.md", "widgets.md")


def test_each_bullet_of_a_dont_box_gives_its_subject(planted: QuerySet) -> None:
    assert found(planted, "WidgetStore()") == GeneratedQuery("WidgetStore()", ("widgets.md",), "dont")
    assert found(planted, "keep widgets in a global") == GeneratedQuery(
        "keep widgets in a global", ("widgets.md",), "dont"
    )


def test_a_query_without_a_word_is_dropped(planted: QuerySet) -> None:
    assert "==" not in {item.query for item in planted.queries}
    assert ("==", "dont") in {(item.query, item.source) for item in planted.dropped}


def test_a_decisions_name_expects_the_linked_page_that_shows_it(planted: QuerySet) -> None:
    # Already a code query: the decision adds no page it does not have.
    assert found(planted, "WidgetStore").pages == ("widgets.md",)
    assert found(planted, "store.first_widget()") == GeneratedQuery("store.first_widget()", ("widgets.md",), "decision")
    dropped = {(item.query, item.source) for item in planted.dropped}
    assert ("make_widgets()", "decision") in dropped
    assert ("missing_name", "decision") in dropped


def test_a_route_expects_the_pages_that_show_its_decorator() -> None:
    """On this checkout: the app's paths, read from its OpenAPI document, each with its endpoint's page."""
    routes = {item.query: item for item in generate(nav=["devops/health.md", "patterns/endpoints.md"]).queries}
    assert routes["/livez"] == GeneratedQuery("/livez", ("devops/health.md",), "route")
    # A decorator with an empty path (`@router.post("")`) answers at its router's prefix.
    assert routes["/api/v1/messages"].pages == ("patterns/endpoints.md",)
    assert routes["/api/v1/messages"].source == "route"


def test_a_decisions_row_with_a_page_link_does_not_expect_the_decisions_page(planted: QuerySet) -> None:
    # `[below](#stored-text)` points into the Decisions page, whose own table names the row: no evidence.
    assert found(planted, "stored_text") == GeneratedQuery("stored_text", ("widgets.md",), "decision")
    assert ("old_text", "decision") in {(item.query, item.source) for item in planted.dropped}
    # A row that links nowhere else is explained on the Decisions page alone.
    assert found(planted, "only_here") == GeneratedQuery("only_here", ("decisions.md",), "decision")


def test_a_decisions_name_also_expects_a_page_whose_heading_holds_it_as_code(planted: QuerySet) -> None:
    # The row's page does not write `widget_cache`; the helpers page's heading "`widget_cache` by hand"
    # holds it as code. "## Narrow the widgets" there only uses the word "Narrow": no code span.
    assert found(planted, "widget_cache") == GeneratedQuery("widget_cache", ("helpers.md",), "decision")
    assert found(planted, "Narrow").pages == ("widgets.md",)


def test_a_decisions_name_must_be_a_whole_word_of_the_page(planted: QuerySet) -> None:
    # widgets.md says "widgets" and `first_widget`, never the word `widget`.
    assert ("widget", "decision") in {(item.query, item.source) for item in planted.dropped}


def test_a_heading_names_a_code_name_only_as_a_whole_word(planted: QuerySet) -> None:
    # "Narrow widgets" holds "row" inside a word: it does not make widgets.md the one page for `row`.
    assert found(planted, "row").pages == ("widgets.md", "helpers.md")


def test_deriving_the_routes_leaves_the_process_logging_alone() -> None:
    """The app is built in another process: its logging set-up must not reach this one's handlers."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    route_paths()
    assert (root.handlers, root.level) == (handlers, level)


def test_the_misses_beyond_the_podium_are_chosen_by_rank_not_by_text() -> None:
    """A page at rank 21, or a query holding "rank 3", is listed as outside the first three by its rank."""
    shown = [f"p{number}/" for number in range(1, 30)]
    scores = score(
        [("far", ("p21.md",)), ("rank 3 words", ("p2.md",)), ("first", ("p1.md",)), ("none", ("nowhere.md",))],
        {"far": shown, "rank 3 words": shown, "first": shown, "none": shown},
    )
    assert [line.split(":")[0] for line in scores.beyond(3)] == ["'far'", "'none'"]
