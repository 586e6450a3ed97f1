"""Two builders, one site: Zensical builds `mkdocs.yml` into the same pages as MkDocs.

MkDocs + Material stay the primary build (the `built_site` fixture). Zensical reads the same
`mkdocs.yml` through `zensical.yml` and runs the same Markdown extensions (guidekit/extensions/).
The two sites are compared page by page, each page's article normalised as the builders' own
templates require (`article`); a difference the site accepts for now is NAMED below with why,
and the test checks that each one is still a difference, so the list cannot go stale.

Build times: the test prints both (run it with `-s`); `scripts/bench_site.py` measures them.
"""

import difflib
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from guidekit.diagrams import site_diagrams
from guidekit.markdown.fences import parse_page
from guidekit.paths import ROOT
from guidekit.site.build import BuiltSite, mkdocs_build
from guidekit.site.search_index import QUERY_REWRITE
from guidekit.site.zensical import CONFIG, SITE, zensical_build

MKDOCS_ONLY_HOOKS = {
    "hooks/code_as_text_for_parsers.py": "speed only: mkdocs-llmstxt and search parse code as text",
    "hooks/restore_highlighted_code.py": "speed only: puts the highlighting back after them",
    "hooks/search_index.py": "Material's search only: see the named differences on name parts and the query",
}
"""The hooks left in mkdocs.yml: they change no page, and Zensical runs no hooks."""


_ARTICLE = re.compile(r'<article class="md-content__inner md-typeset">(.*?)</article>', re.DOTALL)
_HREF = re.compile(r'href="([^"]*)"')


def article(site: Path, page: str) -> str:
    """A page's article, the part the pages make (the rest is each builder's template), normalised:
    no skip anchor (Zensical's template), no trailing spaces or blank lines (template indentation),
    and every link resolved to its target, since the builders write the same link two ways
    (`../errors/` or `../../reference/errors/` from the Proofs page; `#x` or `./#x`)."""
    found = _ARTICLE.search((site / page).read_text(encoding="utf-8"))
    assert found, f"{page}: no article"
    html = found[1].replace('<a id="__skip" tabindex="-1"></a>', "")
    base = "https://site/" + page.removesuffix("index.html")
    html = _HREF.sub(lambda link: f'href="{urljoin(base, link[1]).removeprefix("https://site")}"', html)
    return "\n".join(line.rstrip() for line in html.splitlines() if line.strip())


# What the comparison names when a page differs: each part a reader would miss.
PARTS: dict[str, Callable[[str], list[str]]] = {
    "diagrams": lambda html: re.findall(r'<div class="diagram".*?</svg></div>', html, re.DOTALL),
    "code blocks": lambda html: re.findall(r"<pre\b.*?</pre>", html, re.DOTALL),
    "tables": lambda html: re.findall(r"<table>.*?</table>", html, re.DOTALL),
    "proof links": lambda html: re.findall(r'<a class="proof-link"[^>]*>', html),
    "text": lambda html: re.sub(r"<[^>]+>", "", html).split(),
}


@dataclass(frozen=True)
class Difference:
    """A difference between the two sites that the comparison accepts, and why."""

    why: str
    still_differs: Callable[[BuiltSite, Path], bool]
    """True while the difference is there; when it is gone, drop it from the list."""
    normalise: Callable[[str], str] = str
    """Applied to both articles before they are compared."""


def _search_exclusion_dropped(mkdocs: BuiltSite, zensical: Path) -> bool:
    # Still honoured: no drawing's texts are in Zensical's index.
    index = " ".join(item["text"] for item in json.loads((zensical / "search.json").read_text())["items"])
    for _, diagram in site_diagrams():
        title = re.search(r"<title[^>]*>([^<]+)</title><desc[^>]*>([^<]+)</desc>", diagram.drawing.read_text())
        assert title, "a drawing without a title"
        assert f"{title[1]}{title[2]}" not in index, "Zensical's search indexes a drawing's texts"
    return "data-search-exclude" in article(mkdocs.path, "index.html") and "data-search-exclude" not in article(
        zensical, "index.html"
    )


NAMED_DIFFERENCES: dict[str, Difference] = {
    "the diagrams lose their data-search-exclude attribute": Difference(
        "Zensical's search honours it (no drawing's texts are in its index) and then removes it from the page",
        _search_exclusion_dropped,
        lambda html: html.replace(" data-search-exclude", ""),
    ),
    "the search index is Zensical's own": Difference(
        "Zensical writes `search.json` in its own format, for its own search UI, not Material's "
        "`search/search_index.json`; tests/test_search.py and the browser tests cover MkDocs' index",
        lambda mkdocs, zensical: (
            (mkdocs.path / "search/search_index.json").is_file()
            and not (zensical / "search/search_index.json").exists()
            and (zensical / "search.json").is_file()
        ),
    ),
    "Zensical's search index has no name parts": Difference(
        "hooks/search_index.py adds a `parts` field (and `defines`, `warns`, `decides`) to Material's index "
        "and takes the stop-word filter out of its pipeline (guidekit/site/search_index.py); "
        "Zensical runs no hooks, and its search worker (0.0.73) reads fixed fields from `search.json` "
        "(title, text, path, tags), so a field added there would go unread. Both builders get mkdocs.yml's "
        "separator, which keeps names whole; a part written only inside a name (`problem` in "
        "`application/problem+json`) is indexed in MkDocs' site alone",
        lambda mkdocs, zensical: (
            "parts" in json.loads((mkdocs.path / "search/search_index.json").read_text())["config"]["fields"]
            and not any("parts" in item for item in json.loads((zensical / "search.json").read_text())["items"])
        ),
    ),
    "Zensical's search worker reads the query as typed": Difference(
        "hooks/search_index.py puts guidekit/site/search_query.js (stop words dropped, lunr's operator "
        "characters read as text, each word also asked for as typed with a boost, titles weighed by "
        "their length) in front of Material's worker; Zensical runs no hooks, and its own worker "
        "parses queries and ranks its own way",
        lambda mkdocs, zensical: (
            all(
                worker.read_text(encoding="utf-8").startswith(QUERY_REWRITE.read_text(encoding="utf-8"))
                for worker in (mkdocs.path / "assets/javascripts/workers").glob("search.*.min.js")
            )
            and not any(
                "searchQueryRewrite" in worker.read_text(encoding="utf-8")
                for worker in (zensical / "assets/javascripts/workers").glob("search.*.min.js")
            )
        ),
    ),
    "llms-full.txt and each page's index.md are other Markdown": Difference(
        "Zensical turns the HTML into Markdown its own way (`[t](<url>)`, GFM callouts, unpadded "
        "tables); the test compares the same files' code blocks, which are the same",
        # Still Zensical's way: its links in angle brackets, which MkDocs' llms-full.txt never writes.
        lambda mkdocs, zensical: (
            "](<" in (zensical / "llms-full.txt").read_text(encoding="utf-8")
            and "](<" not in (mkdocs.path / "llms-full.txt").read_text(encoding="utf-8")
        ),
    ),
}


def pages(site: Path) -> set[str]:
    """Every HTML page of a built site."""
    return {path.relative_to(site).as_posix() for path in site.rglob("*.html")}


def test_zensical_builds_the_same_site_as_mkdocs(built_site: BuiltSite) -> None:
    """One test, so one build: pytest-xdist would run two tests' builds at once, in one folder and one cache."""
    completed, seconds = zensical_build(site_url=built_site.url)
    log = completed.stdout + completed.stderr
    # Zensical prints "No issues found" even when a page fails: the exit code is the verdict.
    assert completed.returncode == 0, f"`zensical build -f zensical.yml` failed:\n{log}"
    zensical = re.search(r"Build finished in ([\d.]+)s", log)
    mkdocs = re.search(r"Documentation built in ([\d.]+) seconds", built_site.log)
    print(f"\nzensical build: {seconds:.1f} s wall, {zensical[1] if zensical else '?'} s reported")
    print(f"mkdocs build: {mkdocs[1] if mkdocs else '?'} s reported (the session's shared build)")
    same_pages(built_site, SITE)
    same_llms_txt_and_code_for_llms(built_site, SITE)
    each_named_difference_is_still_a_difference(built_site, SITE)


def same_pages(built_site: BuiltSite, zensical_site: Path) -> None:
    """Same pages, and each page's article the same once normalised and the named differences set aside."""
    assert pages(built_site.path) == pages(zensical_site)
    # The comparison covers what the extensions make: diagrams, generated tables, proof links, the Proofs page.
    home, proofs = article(built_site.path, "index.html"), article(built_site.path, "reference/proofs/index.html")
    assert PARTS["diagrams"](home)
    assert PARTS["tables"](article(built_site.path, "stack/index.html"))
    assert PARTS["proof links"](article(built_site.path, "database/soft-delete/index.html"))
    assert len(PARTS["code blocks"](proofs)) > 100

    problems = []
    for page in sorted(pages(built_site.path)):
        ours, theirs = article(built_site.path, page), article(zensical_site, page)
        for difference in NAMED_DIFFERENCES.values():
            ours, theirs = difference.normalise(ours), difference.normalise(theirs)
        if ours == theirs:
            continue
        parts = [name for name, part in PARTS.items() if part(ours) != part(theirs)] or ["markup"]
        diff = difflib.unified_diff(ours.splitlines(), theirs.splitlines(), "mkdocs", "zensical", lineterm="", n=0)
        problems.append(f"{page}: {', '.join(parts)} differ\n" + "\n".join(line[:200] for line in list(diff)[:12]))
    assert not problems, "Zensical's pages differ from MkDocs' (fix it, or name the difference):\n" + "\n".join(
        problems
    )


def _llms_txt(site: Path) -> list[str]:
    # Zensical writes link destinations in angle brackets, MkDocs one more blank line.
    text = (site / "llms.txt").read_text(encoding="utf-8")
    return [line for line in re.sub(r"\]\(<([^>]*)>\)", r"](\1)", text).splitlines() if line.strip()]


def _code_blocks(markdown: str) -> list[str]:
    # Inside a callout, Zensical prefixes every line with `> `.
    unquoted = re.sub(r"^(?:> ?)+", "", markdown, flags=re.MULTILINE)
    return [f"{fence.info}\n{fence.body}" for fence in parse_page(unquoted, Path("llms-full.txt"))]


def markdown_files(site: Path) -> set[str]:
    """Every Markdown file of a built site: `llms-full.txt` is not one, each page's `index.md` is."""
    return {path.relative_to(site).as_posix() for path in site.rglob("*.md")}


def same_llms_txt_and_code_for_llms(built_site: BuiltSite, zensical_site: Path) -> None:
    """llms.txt lists the same sections and pages; llms-full.txt and each page's index.md hold the same code blocks."""
    assert _llms_txt(zensical_site) == _llms_txt(built_site.path)
    assert sum(line.startswith("## ") for line in _llms_txt(zensical_site)) >= 5, "one section per nav entry"
    ours, theirs = (_code_blocks((site / "llms-full.txt").read_text()) for site in (built_site.path, zensical_site))
    assert len(ours) > 500
    assert ours == theirs
    files = markdown_files(built_site.path)
    assert files == markdown_files(zensical_site), "a page's index.md is in one site only"
    each_page = {page.removesuffix(".html") + ".md" for page in pages(built_site.path) - {"404.html"}}
    assert files == each_page, "each page (404.html aside) has its index.md"
    differ = [
        file
        for file in sorted(files)
        if _code_blocks((built_site.path / file).read_text()) != _code_blocks((zensical_site / file).read_text())
    ]
    assert not differ, f"these index.md files hold other code blocks: {differ}"


def each_named_difference_is_still_a_difference(built_site: BuiltSite, zensical_site: Path) -> None:
    """A named difference that is gone must leave the list, or it would hide a loss later."""
    gone = [
        name
        for name, difference in NAMED_DIFFERENCES.items()
        if not difference.still_differs(built_site, zensical_site)
    ]
    assert not gone, f"no longer a difference, drop it from NAMED_DIFFERENCES: {gone}"


def test_the_hooks_left_are_the_listed_ones_and_mkdocs_yml_lists_the_extensions() -> None:
    """Text only: that Zensical runs the extensions is `test_zensical_builds_the_same_site_as_mkdocs`'s part."""
    config = CONFIG.read_text(encoding="utf-8")
    assert "INHERIT: mkdocs.yml" in config
    mkdocs_yml = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    hooks = re.search(r"^hooks:\n((?:  - .*\n)+)", mkdocs_yml, re.MULTILINE)
    assert hooks, "mkdocs.yml has no hooks: list"
    assert sorted(re.findall(r"  - (\S+)", hooks[1])) == sorted(MKDOCS_ONLY_HOOKS)
    extensions = {path.stem for path in (ROOT / "guidekit" / "extensions").glob("*.py")} - {"__init__", "page"}
    for name in extensions:
        assert f"  - guidekit.extensions.{name}\n" in mkdocs_yml, f"guidekit.extensions.{name} is not in mkdocs.yml"


def test_an_extension_error_fails_the_zensical_build_naming_page_and_line(project_copy: Path) -> None:
    """Zensical stops on what stops MkDocs: here a name that is no test (the extensions' tests cover the rest)."""
    shutil.copy(CONFIG, project_copy / CONFIG.name)
    page = project_copy / "docs" / "onboarding.md"
    lines = page.read_text(encoding="utf-8").splitlines()
    page.write_text("\n".join([*lines, "", "Proven by `test_that_nobody_wrote`."]) + "\n", encoding="utf-8")

    completed, _ = zensical_build(project_copy)

    log = completed.stdout + completed.stderr
    assert completed.returncode != 0, log
    assert f"docs/onboarding.md:{len(lines) + 2}: `test_that_nobody_wrote` is no test" in log


def test_both_builders_of_a_copied_project_read_the_copys_pages_nav_and_pyproject(
    project_copy: Path, tmp_path: Path
) -> None:
    """The extensions read the project being built, not the checkout guidekit is installed from."""
    shutil.copy(CONFIG, project_copy / CONFIG.name)
    page = project_copy / "docs" / "onboarding.md"
    named = "test_a_test_source_holding_a_fence_stays_in_one_code_block"  # named on no page of the checkout
    page.write_text(page.read_text(encoding="utf-8") + f"\nProven by `{named}`.\n", encoding="utf-8")
    mkdocs_yml = project_copy / "mkdocs.yml"
    nav = mkdocs_yml.read_text(encoding="utf-8").replace("  - Get started:\n", "  - Start in the copy:\n")
    mkdocs_yml.write_text(nav, encoding="utf-8")
    pyproject = project_copy / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace('"pytest>=9.0",', '"pytest>=9.0,<99",'), encoding="utf-8"
    )

    completed = mkdocs_build(project_copy, tmp_path / "site")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    zensical, _ = zensical_build(project_copy)
    assert zensical.returncode == 0, zensical.stdout + zensical.stderr
    for site in (tmp_path / "site", project_copy / SITE.name):
        proofs = (site / "reference/proofs/index.html").read_text(encoding="utf-8")
        assert f'id="{named}"' in proofs, site
        assert "## Start in the copy" in (site / "llms.txt").read_text(encoding="utf-8"), site
        assert "<code>&gt;=9.0,&lt;99</code>" in (site / "stack/index.html").read_text(encoding="utf-8"), site


def test_a_page_error_stops_the_mkdocs_build_with_its_message_and_no_traceback(
    project_copy: Path, tmp_path: Path
) -> None:
    page = project_copy / "docs" / "onboarding.md"
    lines = page.read_text(encoding="utf-8").splitlines()
    page.write_text("\n".join([*lines, "", "Proven by `test_that_nobody_wrote`."]) + "\n", encoding="utf-8")

    completed = mkdocs_build(project_copy, tmp_path / "site")

    log = completed.stdout + completed.stderr
    assert completed.returncode != 0, log
    assert f"docs/onboarding.md:{len(lines) + 2}: `test_that_nobody_wrote` is no test" in log
    assert "Aborted with a BuildError!" in log
    assert "Traceback" not in log, log
