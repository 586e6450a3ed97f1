"""Search queries derived from the site itself, each with the page that defines or explains what it names.

Nobody writes these queries down: they are read from the reference service and the pages, so a
new name, heading or "Don't" box becomes a query unasked. Read by tests/test_search_generated.py
(Material's search worker under Node) and tests/browser/test_search_generated.py (the search box
in Chromium). `python -m guidekit.site.search_generated` prints them and what was dropped.

Sources, and how the expected page of each is derived (never typed):

- `code`: every public name defined in `snippets/app`, read with `ast`: module-level classes and
  functions, `Annotated` aliases (`SessionDep`) and UPPER_CASE constants, public methods of
  classes, and the fields of `Settings`. A page *shows* a definition when one of its includes
  (`--8<--`, resolved by `guidekit.markdown.includes.resolve`) shows the definition's line (the
  `def`/`class` line, the field's line), or when a `::: app.x.Name` reference block renders the
  object that holds it. The expected page is the nav page that shows it. When several show it
  (one name defined in several places counts once, with all its definitions), the ones whose
  title or h2/h3 headings hold the name as a whole word (case aside; "row" is not in "Narrow")
  win; when none or all of them do, any of them is accepted.
- `route`: every path of the app's routes, from the OpenAPI document of `app.main.create_app()`
  (configured with `.env.example`'s values, built in a child process). The path's endpoint is
  found with `ast` (`guidekit.site.routes`: the function of that name whose decorator's path,
  joined to its routers' prefixes, is the route's); the expected page is the page that shows the
  decorator line, by the rule of `code`.
- `heading`: every h2 and h3 heading of every nav page, as text (no backticks, links or
  `{ #id }`); the expected page is the page it is on, and also any page whose title or one of
  whose h2/h3 headings is the same query to the search: the same words once cut as the search
  cuts a query, case, order and stop words aside (`guidekit.site.search_index.query_words`).
  "Configuration", a heading on the Celery page, is the Configuration page's title too; "The
  tests", "In the tests" and "Tests" are three headings on three pages, and the search, which
  drops "the" and "in" from a query, reads each as `tests`: a reader who types one may mean any
  of them, and no ranking could tell which.
- `dont`: the subject of every "Don't" box (found as `guidekit.proofs.dont_boxes` finds them):
  the box's title after "Don't" (its code span if it has one); for a box titled only "Don't", the
  first code span of each bullet (or of the body), or else its first words up to a comma or a
  full stop. The expected page is the box's page.
- `decision`: the code spans of the "Old way" and "New way" cells of each row of the Decisions
  page's tables; the expected pages are the pages the row's "Shown in" cell links to that show the
  name as a whole word (in their text or in the code they include), and any other page whose
  title or h2/h3 headings hold it as a code span, exactly: a section headed "Connection:
  `DATABASE_URL`" explains it as well as the row's page (a heading that only uses the word,
  "Try it by hand" for `try`, does not). A link to an
  anchor of the Decisions page itself counts only when the row links to no other page: its table
  names every name of the row, so it would answer the row's queries by construction.

Dropped: a code name no nav page shows, a route whose decorator no page shows (or whose endpoint
the code reader does not find), a Decisions name that none of its row's pages shows and no heading
names, and a query with no letter or digit (`==`: the search indexes words, so no ranking can find
it); each is reported with its reason. One query string
from several sources (or several pages of one source) is one query: its accepted pages are the
union, its source the first in the order above.
"""

import ast
import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from guidekit.markdown.decisions import DECISIONS_PAGE, decision_rows
from guidekit.markdown.fences import parse_page
from guidekit.markdown.includes import IncludeError, include_targets, resolve
from guidekit.markdown.inline import CODE_SPAN, whole_word
from guidekit.markdown.nav import nav_pages, site_config
from guidekit.paths import DOCS, SNIPPETS
from guidekit.proofs import dont_boxes
from guidekit.site.routes import endpoints
from guidekit.site.search_index import query_words

SOURCES = ("code", "route", "heading", "dont", "decision")

_HEADING = re.compile(r"^(?P<level>#{1,3})[ \t]+(?P<text>.+?)[ \t]*#*[ \t]*$")
_ATTRIBUTES = re.compile(r"[ \t]*\{[^}]*\}[ \t]*$")
_LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|\*|(?<!\w)__|(?<!\w)_)(?P<text>\S(?:.*?\S)?)\1(?!\w)")
_REFERENCE = re.compile(r"^:::[ \t]+(?P<object>[\w.]+)[ \t]*$")
_DONT_TITLE = re.compile(r"""danger[ \t]+"Don't:?[ \t]*(?P<subject>[^"]*)\"""")
_BULLET = re.compile(r"^[ \t]*(?:[-*+]|\d+\.)[ \t]+")
_WORD = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class GeneratedQuery:
    """One query, the nav pages (source paths) any of which may answer it, and where it came from."""

    query: str
    pages: tuple[str, ...]
    source: str

    @property
    def expected_page(self) -> str:
        """The first accepted page (most queries accept only one)."""
        return self.pages[0]


@dataclass(frozen=True)
class Dropped:
    """A name that is no query, and why."""

    query: str
    source: str
    reason: str


@dataclass(frozen=True)
class Definition:
    """Where a name is defined: the file and the line a page must show."""

    name: str
    path: Path
    line: int


@dataclass
class Page:
    """One nav page as the derivation reads it."""

    source: str
    text: str
    title: str = ""
    headings: list[str] = field(default_factory=list)
    heading_code: set[str] = field(default_factory=set)
    """The code spans of its title and h2/h3 headings (`DATABASE_URL` of "Connection: `DATABASE_URL`")."""
    shown: dict[Path, set[int]] = field(default_factory=dict)
    """The lines of each snippet file the page shows (includes and `:::` reference blocks)."""
    included_text: str = ""

    def shows(self, definition: Definition) -> bool:
        """Whether the page shows the definition's line."""
        return definition.line in self.shown.get(definition.path, set())

    def mentions_in_headings(self, name: str) -> bool:
        """Whether the page's title or one of its h2/h3 headings holds the name as a whole word (case aside)."""
        wanted = whole_word(name, re.IGNORECASE)
        return any(wanted.search(heading) for heading in [self.title, *self.headings])

    def contains(self, text: str) -> bool:
        """Whether the page's text or the code it includes holds `text` as a whole word."""
        wanted = whole_word(text)
        return bool(wanted.search(self.text) or wanted.search(self.included_text))


def plain(markdown: str) -> str:
    """Inline Markdown as the reader sees it: no backticks, link targets, emphasis or `{ #id }`."""
    text = _LINK.sub(lambda match: match["text"], _ATTRIBUTES.sub("", markdown))
    # Emphasis only outside code spans: `a_b_c` keeps its underscores.
    parts = []
    for prose, code in itertools.zip_longest(CODE_SPAN.split(text)[::3], CODE_SPAN.split(text)[2::3]):
        parts.append(_EMPHASIS.sub(lambda match: match["text"], prose))
        if code is not None:
            parts.append(code.strip())
    return " ".join("".join(parts).split())


def headings(text: str, levels: tuple[int, ...] = (2, 3), *, as_written: bool = False) -> list[str]:
    """The page's headings of the given levels (outside code blocks), as plain text (or as written)."""
    in_fence: set[int] = set()
    for fence in parse_page(text, Path("page.md")):
        in_fence |= set(range(fence.line, fence.end + 1))
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _HEADING.match(line)
        if match and number not in in_fence and len(match["level"]) in levels:
            found.append(match["text"] if as_written else plain(match["text"]))
    return found


def _object_lines(dotted: str, snippets: Path = SNIPPETS) -> tuple[Path, set[int]] | None:
    """The file and lines of the object a `::: app.x.Name` block renders."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = snippets.joinpath(*parts[:cut])
        path = module.with_suffix(".py") if module.with_suffix(".py").is_file() else module / "__init__.py"
        if not path.is_file():
            continue
        body: list[ast.stmt] = ast.parse(path.read_text(encoding="utf-8")).body
        node: ast.stmt | None = None
        for name in parts[cut:]:
            node = next(
                (
                    child
                    for child in body
                    if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and child.name == name
                ),
                None,
            )
            if node is None:
                return None
            body = node.body if isinstance(node, ast.ClassDef) else []
        if node is None:
            return path, set(range(1, len(path.read_text(encoding="utf-8").splitlines()) + 1))
        return path, set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return None


def read_page(source: str, docs: Path = DOCS, snippets: Path = SNIPPETS) -> Page:
    """A nav page: its title, h2/h3 headings and the snippet lines it shows."""
    text = (docs / source).read_text(encoding="utf-8")
    titles = headings(text, levels=(1,))
    written = headings(text, (1, 2, 3), as_written=True)
    code = {match["code"].strip() for heading in written for match in CODE_SPAN.finditer(heading)}
    page = Page(source, text, titles[0] if titles else "", headings(text), code)
    included: list[str] = []
    for _, target in include_targets(text):
        try:
            region = resolve(target, [snippets])
        except IncludeError:
            continue  # the build reports a broken include; it shows nothing here
        page.shown.setdefault(region.path.resolve(), set()).update(region.lines)
        included.append(region.text)
    for line in text.splitlines():
        if (match := _REFERENCE.match(line)) and (rendered := _object_lines(match["object"], snippets)):
            path, lines = rendered
            page.shown.setdefault(path.resolve(), set()).update(lines)
            source_lines = path.read_text(encoding="utf-8").splitlines()
            included.append("\n".join(source_lines[number - 1] for number in sorted(lines)))
    page.included_text = "\n".join(included)
    return page


def search_separator() -> re.Pattern[str]:
    """The separator mkdocs.yml gives Material's search, which cuts the index and each query."""
    search = next(
        plugin["search"] for plugin in site_config()["plugins"] if isinstance(plugin, dict) and "search" in plugin
    )
    return re.compile(search["separator"], re.ASCII)


def _is_annotated_alias(node: ast.Assign) -> bool:
    value = node.value
    return isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) and value.value.id == "Annotated"


def definitions_in(path: Path) -> Iterator[Definition]:
    """The public names one module defines (see the module docstring for which)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
            yield Definition(node.name, path, node.lineno)
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for member in node.body:
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef) and not member.name.startswith("_"):
                    yield Definition(member.name, path, member.lineno)
                if (
                    node.name == "Settings"
                    and isinstance(member, ast.AnnAssign)
                    and isinstance(member.target, ast.Name)
                    and member.target.id != "model_config"
                ):
                    yield Definition(member.target.id, path, member.lineno)
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if not isinstance(target, ast.Name) or target.id.startswith("_"):
                    continue
                if _is_annotated_alias(node) or (target.id.isupper() and len(target.id) > 1):
                    yield Definition(target.id, path, node.lineno)
        if isinstance(node, ast.TypeAlias) and isinstance(node.name, ast.Name):
            yield Definition(node.name.id, path, node.lineno)


def code_definitions(app: Path = SNIPPETS / "app") -> dict[str, list[Definition]]:
    """Every public name of the service, with each place it is defined."""
    found: dict[str, list[Definition]] = {}
    for path in sorted(app.rglob("*.py")):
        for definition in definitions_in(path.resolve()):
            found.setdefault(definition.name, []).append(definition)
    return found


_OPENAPI_PATHS = """
import json
from app.main import create_app
paths = create_app().openapi()["paths"]
print(json.dumps({path: [[method, op["operationId"]] for method, op in ops.items()] for path, ops in paths.items()}))
"""


def route_operations() -> dict[str, set[tuple[str, str]]]:
    """Each path of the app's routes, with the method and the function name of each of its endpoints
    (from the OpenAPI document).

    The app is built in a child process with `.env.example`'s values: `create_app()` configures
    logging, Sentry and tracing for its whole process, which must not be the caller's.
    """
    example = {name: value or "" for name, value in dotenv_values(SNIPPETS / ".env.example").items()}
    done = subprocess.run(
        [sys.executable, "-c", _OPENAPI_PATHS],
        env={**os.environ, **example},
        cwd=SNIPPETS,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"building the app to read its routes failed:\n{done.stderr}")
    document: dict[str, list[tuple[str, str]]] = json.loads(done.stdout.strip().splitlines()[-1])
    # An operation id is `{tag}-{function name}` (app.api.openapi.operation_id); a Python name has no `-`.
    return {
        path: {(method, operation_id.rpartition("-")[2]) for method, operation_id in operations}
        for path, operations in document.items()
    }


def route_paths() -> dict[str, set[str]]:
    """Each path of the app's routes, with the names of its endpoints (from the OpenAPI document)."""
    return {path: {function for _, function in operations} for path, operations in route_operations().items()}


def _expected_pages(name: str, definitions: list[Definition], pages: list[Page]) -> tuple[str, ...]:
    """The pages that show a definition; those whose headings name it win when only some do."""
    showing = [page for page in pages if any(page.shows(definition) for definition in definitions)]
    named = [page for page in showing if page.mentions_in_headings(name)]
    return tuple(page.source for page in (named or showing))


def _prose(body: list[tuple[int, str]], in_fence: set[int]) -> list[str]:
    """A box's non-blank lines outside its code blocks."""
    return [line for number, line in body if line.strip() and number not in in_fence]


def _dont_subjects(text: str) -> Iterator[tuple[int, str]]:
    """Each "Don't" box's subject(s), with the box's line number."""
    lines = text.splitlines()
    in_fence: set[int] = set()
    for fence in parse_page(text, Path("page.md")):
        in_fence |= set(range(fence.line, fence.end + 1))
    for start, body in dont_boxes(text):
        title = _DONT_TITLE.search(lines[start - 1])
        subject = title["subject"].strip() if title else ""
        if subject:
            code = CODE_SPAN.search(subject)
            yield start, code["code"].strip() if code else plain(subject)
            continue
        content = _prose(body, in_fence)
        top = min((len(line) - len(line.lstrip()) for line in content), default=0)
        parts: list[list[str]] = []
        for line in content:
            if len(line) - len(line.lstrip()) == top and _BULLET.match(line):
                parts.append([])
            if not parts:
                parts.append([])
            parts[-1].append(_BULLET.sub("", line).strip())
        for part in parts:
            words = " ".join(part)
            spans = [match["code"].strip() for match in CODE_SPAN.finditer(words)]
            if subject_code := next((span for span in spans if not span.startswith("test_")), None):
                yield start, subject_code
            elif first := re.split(r"[,.;:(]", plain(words).removeprefix("Don't "), maxsplit=1)[0].strip():
                yield start, first


@dataclass
class QuerySet:
    """The generated queries and the names dropped on the way."""

    queries: list[GeneratedQuery]
    dropped: list[Dropped]

    def counts(self) -> dict[str, int]:
        """How many queries each source gave (after deduplication)."""
        return {source: sum(query.source == source for query in self.queries) for source in SOURCES}


def generate(
    docs: Path = DOCS, snippets: Path = SNIPPETS, nav: list[str] | None = None, routes: bool = True
) -> QuerySet:
    """Derive every query, its accepted pages and its source; see the module docstring for the rules.

    `routes=False` leaves out the app's routes (they need the real service, not a planted one).
    """
    sources = nav if nav is not None else nav_pages()
    pages = [read_page(source, docs, snippets) for source in sources]
    app = snippets / "app"
    found: list[tuple[str, tuple[str, ...], str]] = []
    dropped: list[Dropped] = []

    for name, definitions in sorted(code_definitions(app).items()):
        if expected := _expected_pages(name, definitions, pages):
            found.append((name, expected, "code"))
        else:
            dropped.append(Dropped(name, "code", "no nav page includes its definition"))

    if routes:
        declared = endpoints(app)
        for path, names in sorted(route_paths().items()):
            definitions = [
                Definition(endpoint.function, endpoint.file.resolve(), endpoint.line)
                for endpoint in declared
                if endpoint.function in names and path in endpoint.full_paths
            ]
            if not definitions:
                dropped.append(Dropped(path, "route", "no endpoint read from the code serves it (site/routes.py)"))
            elif expected := _expected_pages(path, definitions, pages):
                found.append((path, expected, "route"))
            else:
                dropped.append(Dropped(path, "route", "no nav page includes its endpoint's decorator"))

    separator = search_separator()
    headed: dict[frozenset[str], list[str]] = {}
    for page in pages:
        for heading in filter(None, [page.title, *page.headings]):
            sources = headed.setdefault(query_words(heading, separator), [])
            if page.source not in sources:
                sources.append(page.source)
    for page in pages:
        for heading in filter(None, page.headings):
            also = (source for source in headed[query_words(heading, separator)] if source != page.source)
            found.append((heading, (page.source, *also), "heading"))
    for page in pages:
        found.extend((subject, (page.source,), "dont") for _, subject in _dont_subjects(page.text))

    decisions = next((page for page in pages if page.source == DECISIONS_PAGE), None)
    by_source = {page.source: page for page in pages}
    for row in decision_rows(decisions.text if decisions else ""):
        targets = dict.fromkeys(link.page for link in row.links)
        linked = [by_source[target] for target in targets if target in by_source]
        # The Decisions page's own table names every name of the row: it counts only when the row
        # links to no other page, else a query would be answered by the summary by construction.
        linked = [page for page in linked if page.source != DECISIONS_PAGE] or linked
        for name in row.names:
            showing = [page.source for page in linked if page.contains(name)]
            named = [page.source for page in pages if page.source != DECISIONS_PAGE and name in page.heading_code]
            if accepted := tuple(dict.fromkeys([*showing, *named])):
                found.append((name, accepted, "decision"))
            else:
                dropped.append(
                    Dropped(name, "decision", "none of the pages its row links to shows it, and no heading names it")
                )

    merged: dict[str, GeneratedQuery] = {}
    for query, expected, source in found:
        if not _WORD.search(query):
            dropped.append(Dropped(query, source, "no letter or digit: the search indexes words"))
        elif query in merged:
            known = merged[query]
            merged[query] = GeneratedQuery(query, tuple(dict.fromkeys([*known.pages, *expected])), known.source)
        else:
            merged[query] = GeneratedQuery(query, expected, source)
    return QuerySet(list(merged.values()), dropped)


def main() -> None:
    """Print the generated queries, the count of each source, and what was dropped and why."""
    generated = generate()
    for query in generated.queries:
        print(f"{query.source:9} {query.query!r} -> {', '.join(query.pages)}")
    print(
        f"generated: {len(generated.queries)} queries, " + ", ".join(f"{k} {v}" for k, v in generated.counts().items())
    )
    reasons: dict[str, list[str]] = {}
    for item in generated.dropped:
        reasons.setdefault(f"{item.source}: {item.reason}", []).append(item.query)
    for reason, names in reasons.items():
        print(f"dropped {len(names)} ({reason}): {', '.join(names)}")


if __name__ == "__main__":
    main()
