"""The strict build succeeds, and what it generates is complete and stays on this host."""

import ast
import inspect
import json
import re
from collections.abc import Callable
from html import unescape
from importlib import metadata
from pathlib import Path

import markdown
import pytest

import app.base.base_table as base_table_module
from app.base.base_table import BaseTable
from guidekit.diagrams import site_diagrams
from guidekit.extensions.page import PageError
from guidekit.generated.base_table_methods import docstring_summary
from guidekit.generated.folder_tree import SKIPPED_PARTS, snippet_files
from guidekit.markdown.nav import sections_from
from guidekit.paths import ROOT, TESTED_WITH
from guidekit.site.build import BuiltSite


def text_of(html: str) -> str:
    """The visible text of some HTML."""
    return unescape(re.sub(r"<[^>]+>", "", html))


def code_blocks(html: str) -> list[str]:
    """The text of each `<pre>` block on a page."""
    return [text_of(block) for block in re.findall(r"<pre[^>]*>(.*?)</pre>", html, flags=re.DOTALL)]


def test_strict_build_has_no_warnings(built_site: BuiltSite) -> None:
    assert "WARNING" not in built_site.log, built_site.log
    assert (built_site.path / "index.html").is_file()


def test_pages_load_nothing_from_another_host(built_site: BuiltSite) -> None:
    """Scripts, styles, fonts and images come from the site itself; links to other sites are fine."""
    external = re.compile(
        r"""<(?:script|img|iframe)[^>]*\ssrc=["'](?:https?:)?//|<link[^>]*\shref=["'](?:https?:)?//"""
    )
    offenders = [
        f"{page.relative_to(built_site.path)}: {match.group(0)}"
        for page in built_site.path.rglob("*.html")
        for match in external.finditer(page.read_text(encoding="utf-8"))
        if 'rel="canonical"' not in match.group(0)
    ]
    assert offenders == []


def test_diagrams_are_drawings_in_the_page_and_no_page_loads_mermaid(built_site: BuiltSite) -> None:
    """Material fetches mermaid (3.5 MB, from a CDN) for any `.mermaid` element; the site has none."""
    for page in ("", "architecture/"):
        html = built_site.page(page)
        assert re.search(r'<div class="diagram" data-diagram="[0-9a-f]+"[^>]*><svg ', html), (
            f"no drawn diagram on /{page}"
        )
        assert "Source of this diagram (Mermaid)" in html
    offenders = [
        str(page.relative_to(built_site.path))
        for page in built_site.path.rglob("*.html")
        if re.search(r'class="mermaid"|mermaid(\.min)?\.js', page.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert not list(built_site.path.rglob("mermaid*.js")), "the site ships a mermaid bundle no page needs"


def test_search_indexes_the_diagram_source_not_the_drawing(built_site: BuiltSite) -> None:
    """A drawing's texts would run together in the index ("clientpoints.pyrouter"); its source is there instead."""
    index = json.loads((built_site.path / "search" / "search_index.json").read_text())
    text = " ".join(doc["text"] for doc in index["docs"])
    for where, diagram in site_diagrams():
        svg = diagram.drawing.read_text(encoding="utf-8")
        title = re.search(r"<title[^>]*>([^<]+)</title><desc[^>]*>([^<]+)</desc>", svg)
        assert title, f"{where}: the drawing has no title and description"
        assert f"accTitle: {title[1]}" in text, f"{where}: the diagram's source is not searchable"
        assert f"{title[1]}{title[2]}" not in text, f"{where}: the drawing's texts are in the search index"


def test_llms_txt_has_one_section_per_nav_entry(built_site: BuiltSite) -> None:
    import yaml
    from mkdocs.utils.yaml import get_yaml_loader

    # MkDocs' own loader: our file has !!python tags and reads site_url from !ENV.
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=get_yaml_loader())  # noqa: S506 (our file)
    llms = (built_site.path / "llms.txt").read_text()
    headings = re.findall(r"^## (.+)$", llms, flags=re.MULTILINE)
    assert headings == list(sections_from(config["nav"]))
    assert (built_site.path / "llms-full.txt").stat().st_size > 10_000


def method_rows(html: str) -> list[tuple[str, str, str]]:
    """The (method, returns, what it does) text of each row of the table under the page's Methods heading."""
    table = re.search(r"<table>(.*?)</table>", html.split('id="methods"', 1)[1], flags=re.DOTALL)
    assert table, "no table under the Methods heading"
    cells = r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*</tr>"
    return [
        (text_of(call), text_of(returns), text_of(summary))
        for call, returns, summary in re.findall(cells, table[1], flags=re.DOTALL)
    ]


def test_base_table_page_lists_every_method_as_the_class_declares_it(built_site: BuiltSite) -> None:
    """The table is generated from the source; check it against the class as Python sees it."""
    public = {name: value for name, value in vars(BaseTable).items() if callable(value) and not name.startswith("_")}
    rows = method_rows(built_site.page("database/base-table"))
    assert [re.search(r"(\w+)\(", call)[1] for call, _, _ in rows] == list(public)  # type: ignore[index]
    [model_t] = BaseTable.__type_params__  # `class BaseTable[ModelT: BaseEntity]`: not a module name
    namespace = {**vars(base_table_module), "ModelT": model_t}
    for (call, returns, summary), function in zip(rows, public.values(), strict=True):
        awaited = call.startswith("await ")
        assert awaited == inspect.iscoroutinefunction(function), call
        shown = ast.parse(f"def {call.removeprefix('await ')}: pass").body[0]
        assert isinstance(shown, ast.FunctionDef)
        declared = list(inspect.signature(function).parameters.values())[1:]  # without self
        shown_parameters = [
            *((arg, inspect.Parameter.POSITIONAL_OR_KEYWORD) for arg in shown.args.args),
            *((arg, inspect.Parameter.KEYWORD_ONLY) for arg in shown.args.kwonlyargs),
            *((arg, inspect.Parameter.VAR_KEYWORD) for arg in [shown.args.kwarg] if arg),
        ]
        assert [(arg.arg, kind) for arg, kind in shown_parameters] == [(p.name, p.kind) for p in declared], call
        defaults = [*shown.args.defaults, *(d for d in shown.args.kw_defaults if d)]
        shown_defaults = [eval(ast.unparse(default), namespace) for default in defaults]  # noqa: S307 (our page)
        assert shown_defaults == [p.default for p in declared if p.default is not inspect.Parameter.empty], call
        assert eval(returns, namespace) == inspect.signature(function).return_annotation, call  # noqa: S307
        docstring = inspect.getdoc(function) or ""
        assert summary == docstring_summary(docstring).replace("`", ""), call
        # Independent of the rule: a whole sentence, the docstring's own start, none of its sections.
        assert summary.endswith("."), call
        assert " ".join(docstring.split()).replace("`", "").startswith(summary), call
        assert not re.search(r"\b(Args|Returns|Raises):", summary), call


def test_a_docstring_summary_is_its_first_paragraph_on_one_line() -> None:
    docstring = "Fetch the rows that match,\nnewest first.\n\nArgs:\n    limit: at most this many."
    assert docstring_summary(docstring) == "Fetch the rows that match, newest first."
    assert docstring_summary("One line.") == "One line."
    assert docstring_summary("") == ""


def test_folder_tree_matches_the_snippets_folder(built_site: BuiltSite) -> None:
    tree = next(
        block for block in code_blocks(built_site.page("architecture/folder-structure")) if "snippets/" in block
    )
    paths: list[str] = []
    parents: list[str] = []
    for line in tree.splitlines()[1:]:
        branch = re.search(r"[├└]── ", line)
        assert branch, f"not a tree line: {line!r}"
        depth = branch.start() // 4
        name = line[branch.end() :].split("  # ")[0].strip()
        parents = [*parents[:depth], name.rstrip("/")]
        if not name.endswith("/"):
            paths.append("/".join(parents))
    on_disk = sorted(
        path.relative_to(ROOT / "snippets").as_posix()
        for path in (ROOT / "snippets").rglob("*")
        if path.is_file() and not set(SKIPPED_PARTS) & set(path.parts)
    )
    assert sorted(paths) == on_disk
    assert sorted(paths) == sorted(path.as_posix() for path in snippet_files())


def test_stack_page_states_the_installed_versions(built_site: BuiltSite) -> None:
    page = text_of(built_site.page("stack"))
    for package in ("fastapi", "sqlalchemy", "pydantic", "asyncpg", "mkdocs-material"):
        assert re.search(rf"{re.escape(package)}\s*\S+\s*{re.escape(metadata.version(package))}", page), package
    recorded = json.loads(TESTED_WITH.read_text()) if TESTED_WITH.is_file() else {}
    if "postgresql" in recorded:
        version, day = re.escape(recorded["postgresql"]), recorded["recorded_at"]
        stated = rf"PostgreSQL\s+\d+ to \d+\s+.*?the full run: {version} \(tests of {day}\)"
        assert re.search(stated, page, re.DOTALL), "the stack page does not state the recorded PostgreSQL version"
    else:
        assert "not recorded: run uv run pytest" in page


def test_reference_pages_render_the_docstrings(built_site: BuiltSite) -> None:
    base_table = text_of(built_site.page("reference/base-table"))
    assert "Methods flush, never commit" in base_table
    settings = text_of(built_site.page("reference/settings"))
    assert "How long /readyz waits for each dependency" in settings
    errors = text_of(built_site.page("reference/errors"))
    assert "The resource does not exist, or was soft-deleted." in errors


def test_generated_markers_are_all_replaced(built_site: BuiltSite) -> None:
    leftovers = [str(page) for page in Path(built_site.path).rglob("*.html") if "<!-- generated:" in page.read_text()]
    assert leftovers == []


def test_an_unknown_generated_block_names_its_line_in_the_page_as_written(
    page_markdown: Callable[[str, str], markdown.Markdown],
) -> None:
    """Line numbers count the front matter, which both builders strip before converting."""
    body = "# Title\n\n<!-- generated: no-such-block -->\n"
    page = page_markdown("---\ntitle: x\n---\n\n" + body, "x.md")
    with pytest.raises(PageError, match=r"docs/x\.md:7: unknown generated block 'no-such-block'"):
        page.convert(body)
