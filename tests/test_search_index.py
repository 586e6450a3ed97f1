"""The search index holds each name whole and in its parts (guidekit/site/search_index.py).

Each test plants a small index, with the separator mkdocs.yml gives Material's search and the
fields Material writes, and runs the theme's own search worker on it under Node (the harness of
tests/test_search.py): what the reader's browser would rank, without a build.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import material
import pytest

from guidekit.markdown.decisions import DecisionRow, Link
from guidekit.markdown.nav import site_config
from guidekit.site.build import BuiltSite
from guidekit.site.routes import Endpoint
from guidekit.site.search_index import (
    DECIDES_FIELD,
    DEFINES_FIELD,
    OPENING_BOOST,
    PARTS_FIELD,
    TITLE_BOOST,
    WARNS_FIELD,
    defined_names,
    parts_of,
    refine,
    served_paths,
    tokens,
    warnings,
    wrap_worker,
)

HARNESS = Path(__file__).with_name("search_harness.js")
WORKER = next((Path(material.__file__).parent / "templates/assets/javascripts/workers").glob("search.*.min.js"))


def separator() -> str:
    """The separator mkdocs.yml gives Material's search plugin."""
    plugins = site_config()["plugins"]
    search = next(plugin["search"] for plugin in plugins if isinstance(plugin, dict) and "search" in plugin)
    value: str = search["separator"]
    return value


def planted(docs: list[dict[str, str]]) -> dict[str, Any]:
    """An index as Material's search plugin writes it: its config, then one entry per page or section."""
    fields = {"title": {"boost": 1000.0}, "text": {"boost": 1.0}, "tags": {"boost": 1000000.0}}
    config = {"lang": ["en"], "separator": separator(), "pipeline": ["stopWordFilter"], "fields": fields}
    return {"config": config, "docs": docs}


def ranked(
    index: dict[str, Any],
    queries: list[str],
    tmp_path: Path,
    *,
    rewrite: bool = True,
    phrases: bool = True,
    together: bool = False,
) -> dict[str, list[str]]:
    """The pages each query finds, best first, as the theme's search worker ranks them (by default
    with the query rewrite the build puts in front of it; `phrases=False`: with its phrase weight
    set to 1; `together`: all queries sent before the first answer is read)."""
    node = shutil.which("node")
    assert node, "Node.js runs Material's search worker here; install the `nodejs` Debian package"
    path = tmp_path / "search_index.json"
    path.write_text(json.dumps(index), encoding="utf-8")
    worker = tmp_path / WORKER.name
    shutil.copyfile(WORKER, worker)
    if rewrite:
        wrap_worker(worker)
    if not phrases:
        code = worker.read_text(encoding="utf-8")
        assert "const PHRASE_BOOST = 2;" in code, "the query rewrite's phrase weight moved: update this helper"
        worker.write_text(code.replace("const PHRASE_BOOST = 2;", "const PHRASE_BOOST = 1;"), encoding="utf-8")
    completed = subprocess.run(
        [node, str(HARNESS), str(worker), str(path), *(["--together"] if together else []), *queries],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, list[str]] = json.loads(completed.stdout)
    return {
        query: list(dict.fromkeys(location.partition("#")[0] for location in pages)) for query, pages in found.items()
    }


# A settings page that writes `SecretStr` but never the word "secret"; a logging page whose heading
# says "secrets" and whose text is full of `str`, `application` and `json`; an errors page that
# writes `application/problem+json` once.
PAGES = [
    {"location": "settings/", "title": "Settings", "text": "<p>One class reads the environment.</p>"},
    {
        "location": "settings/#passwords",
        "title": "Passwords",
        "text": "<pre><code>class Settings(BaseSettings):\n    database_password: SecretStr\n</code></pre>"
        "<p>The password is a <code>SecretStr</code>: its repr hides it.</p>",
    },
    {"location": "logging/", "title": "Logging", "text": "<p>Each line is one JSON object.</p>"},
    {
        "location": "logging/#no-secrets-in-a-field",
        "title": "No secrets in a field",
        "text": "<p>Every field is a <code>str</code>, a <code>str</code> key and a <code>str</code> value, "
        "written as <code>json</code> by the <code>json</code> sink: <code>application</code> logs are json.</p>",
    },
    {"location": "errors/", "title": "Errors", "text": "<p>One shape for every error.</p>"},
    {
        "location": "errors/#the-body",
        "title": "The body",
        "text": "<p>The response has the media type <code>application/problem+json</code>.</p>",
    },
]


def test_a_whole_name_finds_the_section_that_writes_it_before_pages_full_of_its_parts(tmp_path: Path) -> None:
    """Split into `secret` + `str`, the query would rank the logging page first: "secrets" in its
    heading, `str` in its text."""
    found = ranked(refine(planted(PAGES)), ["SecretStr", "application/problem+json"], tmp_path)
    assert found["SecretStr"][0] == "settings/", found
    assert found["application/problem+json"][0] == "errors/", found


def test_a_part_alone_still_finds_the_section_that_writes_only_the_whole_name(tmp_path: Path) -> None:
    """The parts field: without it, `problem` and `str` miss the pages that write them only inside a name."""
    found = ranked(refine(planted(PAGES)), ["secret", "problem", "str", "json"], tmp_path)
    assert "settings/" in found["secret"], found
    assert found["problem"] == ["errors/"], found
    assert "settings/" in found["str"], found
    assert "errors/" in found["json"], found


def test_the_parts_of_a_name_are_its_names_and_camel_case_words() -> None:
    assert parts_of("SecretStr") == ["secret", "str"]
    assert parts_of("TaskGroup") == ["task", "group"]
    assert parts_of("application/problem+json") == ["application", "problem", "json"]
    assert parts_of("@field_validator") == ["field_validator"]
    assert parts_of("HTTPBearer") == ["http", "bearer"]
    assert parts_of("expire_on_commit") == []  # `_` names stay whole, as before: `commit` is no part


def test_a_definition_is_a_name_at_the_start_of_a_line_of_code() -> None:
    code = "class Settings(Base):\n    url: str = 'x'\n\nDep = Annotated[X]\nasync def get(r):\n    y = 1\n"
    code += "if a == b:\n    pass\n"
    assert defined_names(f"<p>class Prose</p><pre><code>{code}</code></pre>") == ["settings", "dep", "get"]


def test_a_method_of_a_class_shown_whole_is_a_definition() -> None:
    """A class block defines its methods too: the section showing `Cache` with its `key` method is
    where `key` is defined, not the pages that write the word. A nested assignment still defines nothing."""
    code = "class Cache:\n    ttl: int = 60\n\n    async def key(self, name: str) -> str:\n        prefix = 'v1'\n"
    assert defined_names(f"<pre><code>{code}</code></pre>") == ["cache", "key"]


def test_an_environment_line_is_no_definition() -> None:
    """`.env` and shell lines write `NAME=value` with no space: they set a setting, they do not define it."""
    code = "DATABASE_URL=postgresql://app@db/app\nexport JWT_SECRET=x\nLIMIT = 3\nTIMEOUT: float = 1.0\n"
    assert defined_names(f"<pre><code>{code}</code></pre>") == ["limit", "timeout"]


def test_a_page_title_outranks_the_same_word_in_table_cells_elsewhere(tmp_path: Path) -> None:
    """Titles weigh `TITLE_BOOST` times body text: still more than a table that writes the word five times."""
    cells = "".join("<tr><td>idempotency</td><td>a key per request</td></tr>" for _ in range(5))
    docs = [
        {"location": "decisions/", "title": "Decisions", "text": f"<table>{cells}</table>"},
        {"location": "idempotency/", "title": "Idempotency", "text": "<p>A retried request does its work once.</p>"},
    ]
    found = ranked(refine(planted(docs)), ["idempotency"], tmp_path)
    assert found["idempotency"] == ["idempotency/", "decisions/"], found


def test_a_rare_word_in_the_text_outranks_a_common_word_in_a_heading(tmp_path: Path) -> None:
    """With Material's title boost of 1000, "CSP header" led to the section headed by another header."""
    docs = [
        {"location": "keys/", "title": "Keys", "text": "<p>A key per request.</p>"},
        {"location": "keys/#the-key-header", "title": "The key header", "text": "<p>Send it on every POST.</p>"},
        {"location": "policies/", "title": "Browser policies", "text": "<p>What the browser obeys.</p>"},
        {
            "location": "policies/#content-security-policy",
            "title": "Content security policy",
            "text": "<p>The CSP header lists where scripts may come from; CSP blocks inline scripts.</p>",
        },
        *(
            {"location": f"page-{n}/", "title": f"Page {n}", "text": "<p>Another header is sent here.</p>"}
            for n in range(4)
        ),
    ]
    found = ranked(refine(planted(docs)), ["CSP header"], tmp_path)
    assert found["CSP header"][0] == "policies/", found


def test_the_section_that_defines_a_name_outranks_a_page_that_uses_it(tmp_path: Path) -> None:
    """The `defines` field: without it, the page that only uses the name in its opening code ranks first
    (Material favours a page's opening over its sections)."""
    docs = [
        {"location": "models/", "title": "Models", "text": "<p>What the client sends.</p>"},
        {
            "location": "models/#in-and-out",
            "title": "In and out",
            "text": "<pre><code>class MessageCreate(BaseModel):\n    body: str\n</code></pre>",
        },
        {
            "location": "endpoints/",
            "title": "Endpoints",
            "text": "<pre><code>async def create(body: MessageCreate) -&gt; None: ...\n</code></pre>",
        },
    ]
    found = ranked(refine(planted(docs)), ["MessageCreate"], tmp_path)
    assert found["MessageCreate"] == ["models/", "endpoints/"], found


def test_a_routes_full_path_finds_the_section_that_shows_its_decorator(tmp_path: Path) -> None:
    """A route's decorator writes only its own path (`""`), while tests and logs write the full one:
    with the routes, the section that shows the decorator ranks first."""
    docs = [
        {"location": "endpoints/", "title": "Endpoints", "text": "<p>Thin functions.</p>"},
        {
            "location": "endpoints/#reading",
            "title": "Reading",
            "text": '<pre><code>@router.get(\n    "",\n    responses=problem_responses(422),\n)\n'
            "async def list_messages(service: MessagingServiceDep) -&gt; Page: ...\n</code></pre>",
        },
        {"location": "logging/", "title": "Logging", "text": "<p>One line per request.</p>"},
        {
            "location": "logging/#access-lines",
            "title": "Access lines",
            "text": '<pre><code>{"path": "/api/v1/messages"}\n{"path": "/api/v1/messages"}\n</code></pre>',
        },
    ]
    routes = [
        Endpoint("list_messages", "get", "", Path("points.py"), 10, ("/api/v1/messages",)),
        # the same function name under another decorator path is another route
        Endpoint("list_messages", "get", "/all", Path("old.py"), 5, ("/api/v0/messages/all",)),
    ]
    assert ranked(refine(planted(docs)), ["/api/v1/messages"], tmp_path)["/api/v1/messages"][0] == "logging/"
    index = refine(planted(docs), routes=routes)
    assert ranked(index, ["/api/v1/messages"], tmp_path)["/api/v1/messages"][0] == "endpoints/"
    defines = {doc["location"]: doc.get(DEFINES_FIELD) for doc in index["docs"]}
    assert defines["endpoints/#reading"] == "list_messages /api/v1/messages"


def test_a_route_is_shown_by_its_decorator_over_its_function_only() -> None:
    routes = [
        Endpoint("get_message", "get", "/{message_id}", Path("points.py"), 3, ("/api/v1/messages/{message_id}",)),
        Endpoint("get_message", "head", "/{message_id}", Path("points.py"), 4, ("/api/v1/messages/{message_id}",)),
        Endpoint("get_message", "get", "/latest", Path("points.py"), 2, ("/api/v1/messages/latest",)),
        # one decorator over one function name in two routers
        Endpoint("list_items", "get", "", Path("v1.py"), 3, ("/v1/items",)),
        Endpoint("list_items", "get", "", Path("v2.py"), 3, ("/v2/items",)),
    ]
    shown = '<pre><code>@router.get("/{message_id}")\n@traced\nasync def get_message() -&gt; None: ...</code></pre>'
    assert served_paths(shown, routes) == ["/api/v1/messages/{message_id}"]
    stacked = '<pre><code>@router.get("/latest")\n@router.get("/{message_id}")\ndef get_message(): ...</code></pre>'
    assert served_paths(stacked, routes) == ["/api/v1/messages/latest", "/api/v1/messages/{message_id}"]
    # another method, another function, a `def` between the decorator and the function, a decorator
    # commented out, prose, or a decorator that two routers share
    for text in (
        shown.replace("router.get", "router.delete"),
        shown.replace("def get_message", "def get_webhook"),
        '<pre><code>@router.get("/{message_id}")\ndef helper(): ...\nasync def get_message(): ...</code></pre>',
        '<pre><code># @router.get("/{message_id}")\nasync def get_message(): ...</code></pre>',
        '<p>@router.get("/{message_id}") over async def get_message</p>',
        '<pre><code>@router.get("")\nasync def list_items(): ...</code></pre>',
    ):
        assert served_paths(text, routes) == [], text


# `request.json()` and `FOR UPDATE` typed whole: each is written by one section, in a row, and
# its words apart weigh more elsewhere (a section with "JSON" in its heading, a text with
# "for updated_at" and "update"). The base-table section writes the phrase in its fourth paragraph,
# after two that match its words: the worker's answers keep only the first two.
PHRASE_PAGES = [
    {"location": "logging/", "title": "Logging", "text": "<p>Lines.</p>"},
    {
        "location": "logging/#json-lines",
        "title": "One JSON object per line, as the log collector reads it",
        "text": "<p>Each request logs one.</p>",
    },
    {"location": "base-table/", "title": "BaseTable", "text": "<p>Methods.</p>"},
    {
        "location": "base-table/#writes",
        "title": "Writes",
        "text": "<p>A model, never json.</p><p>The request is read first.</p><p>Then a model.</p>"
        "<p>Never hand <code>request.json()</code> to a write.</p>",
    },
    {"location": "concurrency/", "title": "Concurrency", "text": "<p>Two writers.</p>"},
    {
        "location": "concurrency/#locks",
        "title": "Locks",
        "text": "<p><code>SELECT ... FOR UPDATE</code> holds the row.</p>",
    },
    {"location": "timestamps/", "title": "Timestamps", "text": "<p>Instants.</p>"},
    {
        "location": "timestamps/#trigger",
        "title": "Triggers",
        "text": "<p>A trigger for updated_at sets it on each update.</p>",
    },
]
PHRASES = ["request.json()", "FOR UPDATE"]


def test_a_phrase_typed_whole_ranks_the_section_that_holds_it_in_a_row(tmp_path: Path) -> None:
    """lunr scores a query's words apart; the rewrite weighs the sections that hold them as a phrase."""
    index = refine(planted(PHRASE_PAGES))
    assert [ranked(index, PHRASES, tmp_path, phrases=False)[query][0] for query in PHRASES] == [
        "logging/",
        "timestamps/",
    ]
    found = ranked(index, PHRASES, tmp_path)
    assert [found[query][0] for query in PHRASES] == ["base-table/", "concurrency/"], found


def test_answers_sent_together_are_each_ordered_by_their_own_phrase(tmp_path: Path) -> None:
    """Typing fast sends queries before the first answer: each answer is put in order by its own query."""
    queries = ["json", *PHRASES, "update"]
    index = refine(planted(PHRASE_PAGES))
    assert ranked(index, queries, tmp_path, together=True) == ranked(index, queries, tmp_path)
    assert [ranked(index, queries, tmp_path, together=True)[query][0] for query in PHRASES] == [
        "base-table/",
        "concurrency/",
    ]


# Two pages write DATABASE_URL; the one the Decisions row links to, once, in a section headed in
# other words, and the other in its code, three times.
DECIDED_PAGES = [
    {
        "location": "devops/configuration/",
        "title": "Configuration",
        "text": "<p>Settings come from the environment.</p>",
    },
    {
        "location": "devops/configuration/#the-database-url",
        "title": "The database URL",
        "text": "<p>One <code>DATABASE_URL</code> in dbmate's form; the driver's URL is derived from it.</p>",
    },
    {"location": "testing/", "title": "Testing", "text": "<p>Real servers.</p>"},
    {
        "location": "testing/#fixtures",
        "title": "Fixtures",
        "text": "<pre><code>DATABASE_URL = url\nenv = {'DATABASE_URL': url}\nprint(DATABASE_URL)\n</code></pre>",
    },
    {"location": "devops/docker/", "title": "Docker", "text": "<p>Images.</p>"},
    {"location": "devops/docker/#compose", "title": "Compose", "text": "<p>Images pinned to a full version: 16.</p>"},
    {"location": "devops/docker/#processes", "title": "Processes", "text": "<p>No <code>version:</code> key.</p>"},
    {"location": "devops/docker/#commands", "title": "Commands", "text": "<p><code>HEALTHCHECK</code> it.</p>"},
]
# Compose (h2) covers Processes (h3), not Commands (h2).
DECIDED_LEVELS = {"devops/docker/#compose": 2, "devops/docker/#processes": 3, "devops/docker/#commands": 2}
DECISION_ROWS = [
    DecisionRow(("DATABASE_URL",), (Link("devops/configuration.md", "the-database-url"),)),
    DecisionRow(("version:", "list[X]"), (Link("devops/docker.md", "compose"), Link("decisions.md", "x"))),
    DecisionRow(("HEALTHCHECK",), (Link("devops/docker.md", "compose"),)),
]


def test_a_decisions_row_weighs_its_names_on_the_section_it_links_to(tmp_path: Path) -> None:
    """The `decides` field: without it, the page that only writes the name more often ranks first."""
    docs = DECIDED_PAGES
    assert ranked(refine(planted(docs)), ["DATABASE_URL"], tmp_path)["DATABASE_URL"][0] == "testing/"
    index = refine(planted(docs), DECISION_ROWS, DECIDED_LEVELS)
    assert ranked(index, ["DATABASE_URL"], tmp_path)["DATABASE_URL"][0] == "devops/configuration/"
    decided = {doc["location"]: doc[DECIDES_FIELD] for doc in index["docs"] if DECIDES_FIELD in doc}
    # Each name on the first section that writes it as code among those the link covers: `version:`
    # is in the h3 under the linked h2 (the h2 has the word, not the code); `HEALTHCHECK` only in
    # the next h2, which the link does not cover; `list[X]`, written by no section, and the link to
    # the Decisions page itself add nothing.
    # The field holds each name as lunr's tokens: `version:` is the token `version`.
    assert decided == {"devops/configuration/#the-database-url": "DATABASE_URL", "devops/docker/#processes": "version"}


def test_the_built_index_has_the_parts_field_and_the_separator_of_mkdocs_yml(built_site: BuiltSite) -> None:
    """hooks/search_index.py refined the index after Material's search plugin wrote it."""
    index = json.loads((built_site.path / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert index["config"]["separator"] == separator()
    assert index["config"]["fields"][PARTS_FIELD] == {"boost": 1.0}
    assert index["config"]["fields"]["title"] == {"boost": TITLE_BOOST}
    assert any(DEFINES_FIELD in doc for doc in index["docs"])
    # The Decisions row on Compose links to "The Compose stack"; `version:` is in an h3 under it.
    decided = {doc["location"]: doc[DECIDES_FIELD].split(" ") for doc in index["docs"] if DECIDES_FIELD in doc}
    assert "version" in decided["devops/docker/#application-processes"], decided
    # A long name's stop words are left out: `WHERE deleted_at IS NULL` weighs no `is`.
    assert not any("IS" in words or "is" in words for words in decided.values())
    assert "stopWordFilter" not in index["config"]["pipeline"]
    assert all(doc.get("boost") == OPENING_BOOST for doc in index["docs"] if "#" not in doc["location"])
    with_parts = [doc for doc in index["docs"] if PARTS_FIELD in doc]
    assert len(with_parts) > len(index["docs"]) / 4, "most sections write a CamelCase or a/b name"


@pytest.mark.parametrize("name", ["SecretStr", "application/problem+json"])
def test_the_separator_keeps_a_name_whole(name: str) -> None:
    """The query is split with the same separator: a name it split could not be found whole."""
    assert tokens(f"<p>The <code>{name}</code> type.</p>", re.compile(separator(), re.ASCII)) == ["The", name, "type"]


# A page whose heading is the query; a page with many words that start like the query's stop words
# ("a", "of") and the query's one real word once.
HEADING_PAGES = [
    {"location": "services/", "title": "Services", "text": "<p>Code that holds rules.</p>"},
    {"location": "services/#shape", "title": "Shape of a service", "text": "<p>One class per use.</p>"},
    {
        "location": "auth/",
        "title": "Auth",
        "text": "<p>An access token, after an audit, allows any admin access again; a service offers "
        "off-line access and other options: also an aside about an alias.</p>",
    },
]


def test_stop_words_in_a_query_do_not_match_as_prefixes(tmp_path: Path) -> None:
    """Without the rewrite, the worker turns "a" and "of" into `a*` and `of*`, and the page full of
    words that start with them wins; with it they are dropped, and the heading wins."""
    query = "Shape of a service"
    assert ranked(refine(planted(HEADING_PAGES)), [query], tmp_path)[query][0] == "services/"
    assert ranked(refine(planted(HEADING_PAGES)), [query], tmp_path, rewrite=False)[query][0] == "auth/"


def test_the_word_typed_outranks_the_longer_words_it_starts(tmp_path: Path) -> None:
    """The worker appends `*` to each term, so `test` also matches every `test_...` name, each rare
    and so weighed high: a file tree of tests outranked the section headed "The test". The rewrite
    also asks for each word as typed, weighed `EXACT_BOOST` times, so the heading wins."""
    files = "".join(f"  test_{name}.py\n" for name in ("layers", "models", "routes", "settings", "tasks"))
    docs = [
        {"location": "layers/", "title": "Layers", "text": "<p>Rules between layers.</p>"},
        {"location": "layers/#the-test", "title": "The test", "text": "<p>One function checks the imports.</p>"},
        {"location": "tree/", "title": "Tree", "text": f"<pre><code>tests/\n{files}</code></pre>"},
    ]
    found = ranked(refine(planted(docs)), ["The test"], tmp_path, phrases=False)
    assert found["The test"][0] == "layers/", found


def test_a_heading_that_is_the_query_outranks_a_longer_heading_that_holds_it(tmp_path: Path) -> None:
    """Material scores without length normalisation (b = 0), so "Layers" and "One request through
    the layers" tie, and the first page indexed wins; the rewrite gives titles lunr's own (b = 0.75)."""
    docs = [
        {"location": "patterns/", "title": "Patterns", "text": "<p>How each part is built.</p>"},
        {"location": "patterns/#through", "title": "One request through the layers", "text": "<p>Follow it.</p>"},
        {"location": "cheatsheet/", "title": "Cheat sheet", "text": "<p>One page to keep open.</p>"},
        {"location": "cheatsheet/#layers", "title": "Layers", "text": "<p>From the edge inwards.</p>"},
    ]
    found = ranked(refine(planted(docs)), ["Layers"], tmp_path)
    assert found["Layers"][0] == "cheatsheet/", found


def test_a_section_headed_by_the_query_outranks_a_page_opening_that_mentions_it(tmp_path: Path) -> None:
    """Material multiplies the score of a page's opening by up to 5 and a section's by up to 2: the
    limits page, "timeouts" in its title and "lock" in its first paragraph, outranked the section
    headed "Lock timeouts". An opening weighs `OPENING_BOOST` of a section."""
    docs = [
        {
            "location": "limits/",
            "title": "Limits and timeouts",
            "text": "<p>Every request, statement and lock wait has a limit.</p>",
        },
        {"location": "rules/", "title": "Migration rules", "text": "<p>How a schema changes.</p>"},
        {"location": "rules/#lock-timeouts", "title": "Lock timeouts", "text": "<p>Set them before the DDL.</p>"},
    ]
    found = ranked(refine(planted(docs)), ["Lock timeouts"], tmp_path, phrases=False)
    assert found["Lock timeouts"][0] == "rules/", found
    assert [doc.get("boost") for doc in refine(planted(docs))["docs"]] == [OPENING_BOOST, OPENING_BOOST, None]


def test_a_stop_word_that_names_a_method_finds_the_section_that_writes_it(tmp_path: Path) -> None:
    """`get` is a stop word of lunr's and a method name. Left out of the index, the query `get` finds
    only the longer names it starts (`get_settings`); indexed, it finds the section that writes it."""
    docs = [
        {"location": "settings/", "title": "Settings", "text": "<p>Call <code>get_settings()</code> once.</p>"},
        {"location": "service/", "title": "Service", "text": "<p>Its <code>get</code> reads one row.</p>"},
    ]
    found = ranked(refine(planted(docs)), ["get"], tmp_path)
    assert found["get"][0] == "service/", found


def test_lunr_operators_in_a_query_are_read_as_text(tmp_path: Path) -> None:
    """`transaction:false` would be a field lunr does not know, `-x` "must not contain x", `x^2` a
    boost: with the rewrite each is the words it writes."""
    pages = [
        {"location": "tx/", "title": "Transactions", "text": "<p>Pass <code>transaction:false</code> to skip it.</p>"},
        {"location": "other/", "title": "Other", "text": "<p>Nothing about it.</p>"},
    ]
    queries = ["transaction:false", "-transaction", "transaction^2 false~1"]
    found = ranked(refine(planted(pages)), queries, tmp_path)
    assert all(found[query][:1] == ["tx/"] for query in queries), found
    assert ranked(refine(planted(pages)), queries, tmp_path, rewrite=False)["-transaction"] != ["tx/"]


def test_a_query_of_stop_words_only_is_kept(tmp_path: Path) -> None:
    """`all` is a stop word (the index leaves it out) and a method name: with nothing else in the
    query it is searched as typed, and still finds the words it starts; dropped, it would find nothing."""
    pages = [{"location": "repo/", "title": "Repository", "text": "<p><code>all</code> reads all rows allowed.</p>"}]
    assert ranked(refine(planted(pages)), ["all", "the all"], tmp_path) == {"all": ["repo/"], "the all": ["repo/"]}


def test_a_caret_written_in_the_text_is_not_part_of_the_word(tmp_path: Path) -> None:
    """The query rewrite reads `^` as a space (it is lunr's boost), so the separator splits it in the
    text too: `^0.104.1` is indexed as `0.104.1`, which the query can reach."""
    pages = [{"location": "stack/", "title": "Stack", "text": "<p>A constraint like <code>^0.104.1</code>.</p>"}]
    assert ranked(refine(planted(pages)), ["^0.104.1", "0.104.1"], tmp_path) == {
        "^0.104.1": ["stack/"],
        "0.104.1": ["stack/"],
    }


def test_a_name_with_a_colon_finds_the_page_that_writes_it_before_pages_about_its_parts(tmp_path: Path) -> None:
    """Cut at its colon, `transaction:false` is "transaction" and "false", and the page titled
    Transactions wins; kept whole in the index and in the query, the migration page wins, and its
    parts still find it."""
    pages = [
        {
            "location": "tx/",
            "title": "Transactions",
            "text": "<p>A transaction commits or it is false to claim it did.</p>",
        },
        {
            "location": "rules/",
            "title": "Migration rules",
            "text": "<p>Write <code>transaction:false</code> first.</p>",
        },
    ]
    found = ranked(refine(planted(pages)), ["transaction:false", "false"], tmp_path)
    assert found["transaction:false"][0] == "rules/", found
    assert "rules/" in found["false"], found


def test_a_dont_box_ranks_its_section_first_for_what_it_warns_against(tmp_path: Path) -> None:
    """The Docker page warns against `poetry install --no-dev` once, in a box; the Decisions page
    writes its words more often, in a table row. The box's `warns` field puts the Docker page first."""
    pages = [
        {"location": "other/", "title": "Other", "text": "<p>Nothing here is about packaging at all.</p>"},
        {
            "location": "decisions/",
            "title": "Decisions",
            "text": "<p>Old way: <code>poetry install --no-dev</code>; "
            "new way: <code>poetry install --only main</code>, "
            "since Poetry 2 has no <code>--no-dev</code>: <code>poetry install</code> dev.</p>",
        },
        {
            "location": "docker/",
            "title": "Docker",
            "text": "<p>The build stage copies the lock file first.</p> "
            "<p>Don't: <code>poetry install --no-dev</code></p> <p>The option is gone.</p>",
        },
    ]
    found = ranked(refine(planted(pages)), ["poetry install --no-dev"], tmp_path)
    assert found["poetry install --no-dev"][0] == "docker/", found
    assert refine(planted(pages))["docs"][2][WARNS_FIELD] == "poetry install --no-dev"


def test_a_name_a_dont_bullet_mentions_on_the_way_does_not_outrank_its_definition(tmp_path: Path) -> None:
    """The `warns` field holds each bullet's subject (`limit`), not the rest of its prose: with the
    whole bullet there, `MAX_PAGE_SIZE`, which the bullet only mentions, weighed about what the
    section that defines it weighs, and the box's page, indexed first, ranked first."""
    pages = [
        {
            "location": "pagination/",
            "title": "Pagination",
            "text": "<p>Don't</p> <p>Don't accept any <code>limit</code> the client sends: without "
            "<code>MAX_PAGE_SIZE</code> one request reads the whole table (<code>test_cap</code>).</p>",
        },
        {"location": "base/", "title": "Base", "text": "<pre><code>MAX_PAGE_SIZE = 100\n</code></pre><p>The cap.</p>"},
    ]
    found = ranked(refine(planted(pages)), ["MAX_PAGE_SIZE"], tmp_path)
    assert found["MAX_PAGE_SIZE"][0] == "base/", found
    assert refine(planted(pages))["docs"][0][WARNS_FIELD] == "limit"


def test_the_subject_of_a_dont_is_its_title_or_each_bullets_first_code_or_words() -> None:
    html = (
        "<p>Don't: <code>poetry install --no-dev</code></p><p>Don't: add CORS first</p><p>Don't</p>"
        "<ul><li>Don't call <code>test_x</code> or <code>session.commit()</code> here.</li>"
        "<li>Don't keep widgets in a global, ever.</li></ul>"
    )
    assert warnings(html) == [
        "poetry install --no-dev",
        "add CORS first",
        "session.commit()",
        "keep widgets in a global",
    ]
