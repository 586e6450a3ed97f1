"""The search index knows each identifier whole and in its parts, and titles weigh less than 1000 texts.

Material's search worker splits indexed text and the typed query with the same `separator`
(mkdocs.yml), so one separator cannot do both: if it splits `SecretStr`, the query `SecretStr`
becomes `secret` and `str` and every page with a `str` competes with the one about `SecretStr`; if
it keeps the name whole, `str` alone no longer reaches the pages that only write `SecretStr` (a
query term matches the start of a token, so `secret` still would).
The separator in mkdocs.yml therefore keeps names whole (CamelCase, `a/b+c`, `@name`),
and `add_parts` gives every indexed section an extra field, `parts`, holding the pieces of each of
its names that the old splitting made (`secret`, `str`). The field weighs what body text weighs, so
a query for a part ranks pages about as it did when the parts were in the text (each part once per
section, and not at all where the section also writes it as a word); the whole name is a rare
token, so a query for it goes to the sections that write it.

`refine` also keeps stop words in the index: `get` and `all` are method names and "Why" a heading,
and the index without them could find each only through the longer words it starts (`get_settings`);
the query rewrite drops stop words typed beside other words, so "the" and "a" cost nothing there.
It lowers the weight of titles against body text (`TITLE_BOOST`, why there) and of each page's
opening against its sections (`OPENING_BOOST`), gives
each section a `defines` field: the names its code defines and the full paths of the routes whose
decorators it shows (`DEFINES_BOOST`; the routes from `guidekit.site.routes`), a `warns`
field: the subjects of its "Don't" boxes (`WARNS_BOOST`), and a `decides` field: the names of
the Decisions page's rows that link to it (`DECIDES_BOOST`; the rows are read from
`docs/decisions.md` by `guidekit.markdown.decisions`).

What the index cannot change is how the worker reads a query (Material 9.8.2): it appends `*` to
every term and so skips the stop-word filter, and `a*` or `the*` then match hundreds of words (a
heading typed whole, "Injecting a service", ranks by its "a"); lunr reads `x:y` as a field, `-x`
as "must not contain" and `^`, `~`, `*` as operators. `wrap_worker` therefore puts
`search_query.js` (next to this file) in front of the worker the build copied: it rewrites each
query before the worker reads it, cut with the index's separator and without its stop words
(unless nothing else is left: `all` alone is still a query). Each word left is asked for as typed
too, with a boost, so `test` outranks the longer words it starts (`test_layers`); and the title
field gets lunr's length normalisation (b = 0.75; Material gives every field none), so the heading
"Layers" outranks "One request through the layers". A query of several words is also a phrase: a
section that holds its words in a row (both cut by the separator, case aside) is weighed
`PHRASE_BOOST` times, and the sections and pages are sorted again, so `request.json()` finds the
section that writes it before a heading with "JSON" in it.

Nothing here is a list of words: the parts come from the names the pages hold. MkDocs runs it after
Material's search plugin wrote the index (hooks/search_index.py); Zensical writes its own index
for its own search (tests/test_two_builders.py names the difference).
"""

import functools
import html
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import material

from guidekit.markdown.decisions import DECISIONS_PAGE, DecisionRow, Link, decision_rows
from guidekit.markdown.inline import whole_word
from guidekit.markdown.nav import page_url_path
from guidekit.site.routes import METHODS, Endpoint, endpoints

PARTS_FIELD = "parts"
"""The field of the index that holds the parts of each section's names."""

PARTS_BOOST = 1.0
"""The parts weigh what body text weighs (Material's `text` field has boost 1)."""

DEFINES_FIELD = "defines"
"""The field of the index that holds the names a section's code defines, and the full paths of the
routes whose decorators it shows."""

DEFINES_BOOST = 5.0
"""A section whose code defines a name (`class X`, `def x`, `X = ...` at the start of a line, and
the full path of a route whose decorator it shows) weighs the name five times body text, so a query
for the name ranks the sections that define it above the many that only use it (an endpoint's code
writes `MessageCreate` as often as the models page that defines it; tests and logs write
`/api/v1/messages` more often than the endpoint's decorator, which writes `""`), and below a
heading that names it. Measured on the generated queries (guidekit/site/search_generated.py): at 3,
`list` (the services' method) ranked 4th under the heading "Rules in one list"; at 8, `all_by()`
fell to 4th under the sections that only call it."""

WARNS_FIELD = "warns"
"""The field of the index that holds what a section's "Don't" boxes warn against."""

WARNS_BOOST = 3.0
"""A "Don't" box names the old way the section replaces (`poetry install --no-dev`), once, while
pages that merely mention it may write it more often; the subject of its title and of each bullet
(`warnings` says which words) weighs three times body text, less than a definition (5). At 5,
`list` (a method) ranked 4th under a box on unbounded lists. The rest of a bullet is prose, and
weighs what text weighs: were it all in the field, a name a bullet only mentions on the way
(`list[MessageCreate]` in a box on unbounded lists) would weigh about what the section defining it
does.
Material drops the box's markup from the index, so a box is found as the paragraphs and list items
it leaves that start with "Don't"."""

DECIDES_FIELD = "decides"
"""The field of the index that holds the names the Decisions page's rows send to a section."""

DECIDES_BOOST = 6.0
"""A row of the Decisions page names an old way and a new way (`HTTPException`, `asyncio.run`) and
links to the sections that show them; those sections get the row's names weighed more than a
definition: a row is an editor's word on where a name is explained, where a definition is only
code that names it first. Measured on the 748 generated queries (2026-12-05), with definitions at
3: without the field 8 were outside the first three; at 3, 7; at 6, 5 (`session.commit()`,
`all_by()`, `asyncio.run` and `version:` found); at 10, 6. With definitions at 5, phrases and
routes (the same day): at 1, `all_by()` and `version:` outside the first three; at 3, `all_by()`;
at 6 and at 10, none (hit@1 96.1 %). A name goes only to a section that writes it: a row's `list[X]` is a pattern,
not a name any section writes, and would otherwise weigh `list` and `x` on a page about neither."""

OPENING_BOOST = 0.6
"""A page's opening (its title and what comes before its first heading) weighs 0.6 of a section.
Material's worker multiplies the score of a page's opening by up to 5 and a section's by up to 2
(all the query's words found), so a page whose title holds one word of the query and whose first
paragraph the other outranked the section headed by both ("Lock timeouts" led to "Limits and
timeouts"). At 0.6 an opening still outranks a section that matches as well (5 * 0.6 = 3 > 2).
lunr multiplies every field of the entry by its `boost`."""

TITLE_BOOST = 10.0
"""A heading's or page title's words weigh ten times body text. Material's 1000 let a common word
in a heading outrank the rare word the query is about in body text: "CSP header" led to the page
with a heading on some other header, not to the one that explains CSP. Ten still puts a page whose
title is the word above a page that writes it in several table cells (tests/test_search_index.py)."""

# Where a name splits into the names it is made of: `/`, `+`, `@` and `:` (`application/problem+json`
# -> application, problem, json; `@field_validator` -> field_validator; `transaction:false` ->
# transaction, false); and where a CamelCase
# name splits into words, before each capital that starts a lower-case run (`TaskGroup` -> Task,
# Group; `HTTPBearer` -> HTTP, Bearer), the rule the separator itself used before it kept names whole.
_NAME_BOUNDARY = re.compile(r"[/@+:]+")
_WORD_BOUNDARY = re.compile(r"(?!\b)(?=[A-Z][a-z])", re.ASCII)
# A name a code block defines: `class X`, `X = ...` and `X: T = ...` at the start of a line, and
# `def x` or `async def x` at any indentation (a method of a class shown whole defines the method).
# A local variable or a class field (an indented assignment) does not, nor a `.env` or shell line
# (`NAME=value`, no space: it sets).
_DEFINITION = re.compile(
    r"^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)|^class[ \t]+(\w+)|^(\w+)(?:[ \t]*:[^=\n]+|[ \t]+)=(?!=)",
    re.ASCII | re.MULTILINE,
)
_CODE = re.compile(r"<pre[^>]*>(.*?)</pre>", re.DOTALL)
# A "Don't" box's title or bullet as Material indexes it: a paragraph or list item starting "Don't".
_WARNING = re.compile(r"<(p|li)>\s*(Don't\b.*?)</\1>", re.DOTALL)
_WARNING_TITLE = re.compile(r"Don't:")
_HTML_CODE = re.compile(r"<code\b[^>]*>(.*?)</code>", re.DOTALL)  # inline code, and a code block's
_FIRST_WORDS = re.compile(r"[,.;:(]")
# Material's tokenizer indexes the text between tags only.
_TAG = re.compile(r"<[^>]*>")
# A route's decorator at the start of a line (`@router.get("path")`; `api_route` and a `path=`
# keyword, which the service does not write, are not read here), and the function under it, with
# no `def` between; the match ends at the decorator, so stacked decorators each match.
_ROUTE = re.compile(
    r"^[ \t]*@\w+\.(?P<method>" + "|".join(sorted(METHODS)) + r")\(\s*(?P<quote>[\"'])(?P<path>.*?)(?P=quote)"
    r"(?=(?:(?!\bdef\b)[\s\S])*?\bdef[ \t]+(?P<function>\w+))",
    re.MULTILINE,
)


_STOP_WORD_LIST = re.compile(r"generateStopWordFilter\(\[([^\]]*)\]\)")
# What the query rewrite reads as spaces besides the separator: lunr's operator characters.
_OPERATORS = re.compile(r"[\\^~*]+")


@functools.cache
def stop_words() -> frozenset[str]:
    """lunr's English stop words, read from the search worker Material ships (the list the rewrite uses)."""
    workers = Path(material.__file__).parent / "templates/assets/javascripts/workers"
    worker = next(workers.glob("search.*.min.js")).read_text(encoding="utf-8")
    found = _STOP_WORD_LIST.search(worker)
    if not found:
        raise RuntimeError(f"no stop-word list in Material's search worker under {workers}")
    return frozenset(json.loads(f"[{found[1]}]"))


def query_words(query: str, separator: re.Pattern[str]) -> frozenset[str]:
    """The words the search looks for when `query` is typed, as `search_query.js` rewrites it: cut with
    the separator and at lunr's operators, lower-cased, stop words dropped unless nothing else is left.
    lunr reads them as a set: their order and how often each is typed do not count."""
    pieces = {piece.lower() for word in _OPERATORS.split(query) for piece in separator.split(word) if piece}
    return frozenset(pieces - stop_words()) or frozenset(pieces)


def tokens(text: str, separator: re.Pattern[str]) -> list[str]:
    """The tokens Material's tokenizer makes of an indexed field, before lower-casing."""
    found: list[str] = []
    for piece in _TAG.split(text):
        found.extend(token for token in separator.split(piece) if token)
    return found


def parts_of(token: str) -> list[str]:
    """The lower-cased names and words a name is made of, itself left out."""
    parts: dict[str, None] = {}
    for name in _NAME_BOUNDARY.split(token):
        parts.update(dict.fromkeys(part.lower() for part in (name, *_WORD_BOUNDARY.split(name)) if part))
    parts.pop(token.lower(), None)
    return list(parts)


def refine(
    index: dict[str, Any],
    decisions: Iterable[DecisionRow] = (),
    levels: Mapping[str, int] | None = None,
    routes: Iterable[Endpoint] = (),
) -> dict[str, Any]:
    """The index with its titles weighed `TITLE_BOOST`, stop words kept, the parts of its names, what
    its code defines (`routes`: the service's, whose full paths go to the sections that show their
    decorators), what its "Don't" boxes warn against and what the Decisions page's rows send to it."""
    index["config"]["fields"]["title"]["boost"] = TITLE_BOOST
    # Material's worker drops from its pipeline what the list leaves out: no stop-word filter, so
    # `get`, `all` and "Why" are indexed (the query rewrite still drops stop words beside other words).
    index["config"]["pipeline"] = [function for function in index["config"]["pipeline"] if function != "stopWordFilter"]
    for doc in index["docs"]:
        if "#" not in doc["location"]:
            doc["boost"] = OPENING_BOOST
    return add_decisions(add_warnings(add_definitions(add_parts(index), routes)), decisions, levels or {})


def defined_names(html: str) -> list[str]:
    """The names the code blocks of a section's HTML define, lower-cased as the index holds them."""
    names: dict[str, None] = {}
    for block in _CODE.findall(html):
        for match in _DEFINITION.finditer(_TAG.sub("", block)):
            names[(match[1] or match[2] or match[3]).lower()] = None
    return list(names)


def served_paths(text: str, routes: Iterable[Endpoint]) -> list[str]:
    """The full paths of the routes whose decorator and function the code blocks of a section's HTML
    show (`@router.get("")` over `def list_messages`: `/api/v1/messages`)."""
    by_decorator: dict[tuple[str, str, str], list[tuple[str, ...]]] = {}
    for route in routes:
        by_decorator.setdefault((route.function, route.method, route.path), []).append(route.full_paths)
    paths: dict[str, None] = {}
    for block in _CODE.findall(text):
        for match in _ROUTE.finditer(html.unescape(_TAG.sub("", block))):
            # one decorator over one function name in two routers: the code shown cannot tell which
            if len(found := by_decorator.get((match["function"], match["method"], match["path"]), [])) == 1:
                paths.update(dict.fromkeys(found[0]))
    return list(paths)


def add_definitions(index: dict[str, Any], routes: Iterable[Endpoint] = ()) -> dict[str, Any]:
    """The index with a `defines` field on each section whose code defines a name or shows a route."""
    routes = list(routes)
    for doc in index["docs"]:
        text = doc.get("text", "")
        if names := [*defined_names(text), *served_paths(text, routes)]:
            doc[DEFINES_FIELD] = " ".join(names)
    index["config"]["fields"][DEFINES_FIELD] = {"boost": DEFINES_BOOST}
    return index


def warnings(html: str) -> list[str]:
    """The subject of each "Don't" title and bullet in a section's HTML: what follows "Don't:" in a
    title (its code span if it has one); in a bullet, its first code span that names no test, or
    else its first words up to a comma, full stop, colon or bracket."""
    found = []
    for match in _WARNING.finditer(html):
        item = match[2]
        title = _WARNING_TITLE.match(item)
        rest = item[title.end() :] if title else item.removeprefix("Don't")
        spans = [_TAG.sub("", span).strip() for span in _HTML_CODE.findall(rest)]
        if subject := next((span for span in spans if span and not span.startswith("test_")), ""):
            found.append(subject)
        elif title:
            found.append(_TAG.sub("", rest).strip())
        else:
            found.append(_FIRST_WORDS.split(_TAG.sub("", rest), maxsplit=1)[0].strip())
    return [subject for subject in found if subject]


def add_warnings(index: dict[str, Any]) -> dict[str, Any]:
    """The index with a `warns` field on each section that has a "Don't" box."""
    for doc in index["docs"]:
        if found := warnings(doc.get("text", "")):
            doc[WARNS_FIELD] = " ".join(found)
    index["config"]["fields"][WARNS_FIELD] = {"boost": WARNS_BOOST}
    return index


def _location(link: Link) -> str:
    """Where the index holds a linked page or section: `database/timestamps/#timestamptz`."""
    return page_url_path(link.page) + (f"#{link.anchor}" if link.anchor else "")


def add_decisions(index: dict[str, Any], rows: Iterable[DecisionRow], levels: Mapping[str, int]) -> dict[str, Any]:
    """The index with a `decides` field on the sections the Decisions page's rows link to.

    A link covers the section it names and the sections under it: those after it on its page
    with a deeper heading (`levels`: each section's heading level, by location; without it, or
    for a section it does not know, a link covers its own section only), and a link to a page
    covers the page (`version:` is under
    "The Compose stack", in "Application processes"). Each name of a row goes to the first section
    of each covered stretch that writes it as code, in its heading or its text. A link to a heading the
    index has no section for covers its page; a link to the Decisions page itself adds nothing (its
    tables write every name already).
    """
    docs = index["docs"]
    at = {doc["location"]: number for number, doc in enumerate(docs)}
    # A row's names are code, so a section writes one in code (`version:`, not "a full version: 16").
    written = [
        "\n".join(
            html.unescape(_TAG.sub("", code))
            for code in _HTML_CODE.findall(f"{doc.get('title', '')}\n{doc.get('text', '')}")
        )
        for doc in docs
    ]

    def covered(start: int) -> range:
        location = docs[start]["location"]
        level = levels.get(location, 6) if "#" in location else 1
        end = start + 1
        while end < len(docs) and "#" in docs[end]["location"] and levels.get(docs[end]["location"], 0) > level:
            end += 1
        return range(start, end)

    decided: dict[int, dict[str, None]] = {}
    for row in rows:
        stretches = [
            covered(start)
            for link in row.links
            if link.page != DECISIONS_PAGE
            and (start := at.get(_location(link), at.get(page_url_path(link.page)))) is not None
        ]
        for name in row.names:
            wanted = whole_word(name)
            for stretch in stretches:
                if (number := next((number for number in stretch if wanted.search(written[number])), None)) is not None:
                    decided.setdefault(number, {})[name] = None
    # lunr cuts each name into tokens: a long name's stop words (`IS` of `WHERE deleted_at IS NULL`)
    # would weigh what a name weighs.
    separator = re.compile(index["config"]["separator"], re.ASCII)
    for number, names in decided.items():
        words = [token for name in names for token in tokens(name, separator) if token.lower() not in stop_words()]
        docs[number][DECIDES_FIELD] = " ".join(dict.fromkeys(words))
    index["config"]["fields"][DECIDES_FIELD] = {"boost": DECIDES_BOOST}
    return index


_HEADING_ID = re.compile(r"<h([1-6])\b[^>]*\sid=\"([^\"]+)\"")


def heading_levels(site: Path, index: dict[str, Any]) -> dict[str, int]:
    """The heading level of each section of a built site's index, read from its pages' HTML."""
    levels: dict[str, int] = {}
    for doc in index["docs"]:
        page = site / doc["location"] / "index.html"
        if "#" not in doc["location"] and page.is_file():
            for level, anchor in _HEADING_ID.findall(page.read_text(encoding="utf-8")):
                levels[f"{doc['location']}#{html.unescape(anchor)}"] = int(level)
    return levels


def add_parts(index: dict[str, Any]) -> dict[str, Any]:
    """The index with a `parts` field on each section that writes a name with parts."""
    config = index["config"]
    # The separator as JavaScript reads it; the Python syntax of these constructs is the same.
    separator = re.compile(config["separator"], re.ASCII)
    for doc in index["docs"]:
        written = [token for field in ("title", "text") for token in tokens(doc.get(field, ""), separator)]
        # A part the section also writes as a word is indexed already; leaving it out keeps the index small.
        words = {token.lower() for token in written}
        parts = {part: None for token in written for part in parts_of(token) if part not in words}
        if parts:
            doc[PARTS_FIELD] = " ".join(parts)
    config["fields"][PARTS_FIELD] = {"boost": PARTS_BOOST}
    return index


QUERY_REWRITE = Path(__file__).with_name("search_query.js")
"""The script `wrap_worker` puts in front of Material's search worker."""


def wrap_worker(worker: Path) -> None:
    """Put `QUERY_REWRITE` in front of the search worker the build copied, once."""
    rewrite = QUERY_REWRITE.read_text(encoding="utf-8")
    code = worker.read_text(encoding="utf-8")
    if not code.startswith(rewrite):
        worker.write_text(rewrite + code, encoding="utf-8")


def refine_file(path: Path, docs: Path) -> None:
    """Rewrite a built site's `search/search_index.json` refined, as compact as Material writes it;
    `docs` is the folder of the pages it was built from (the Decisions page's rows are read there),
    the built pages give each section's heading level, and the service's routes are read from `snippets/app`."""
    decisions = docs / DECISIONS_PAGE
    rows = decision_rows(decisions.read_text(encoding="utf-8")) if decisions.is_file() else ()
    index = json.loads(path.read_text(encoding="utf-8"))
    index = refine(index, rows, heading_levels(path.parent.parent, index), endpoints())
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
