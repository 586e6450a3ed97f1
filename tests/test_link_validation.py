"""Every link resolves: the strict build refuses a broken Markdown link, and a crawl of the built
HTML resolves every internal link and anchor (no browser needed).

`mkdocs build --strict` checks the links written in Markdown, naming the page and the target; the
crawl also covers what the theme, the plugins and the includes put into the HTML (navigation,
table of contents, API reference).
"""

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from guidekit.markdown.nav import page_url_path
from guidekit.site.build import BuiltSite, mkdocs_build

# Any host works as a stand-in: links are resolved as a browser would, then looked up on disk.
BASE = "http://site.invalid/"
LINK_ATTRIBUTES = {"href", "src"}
SKIPPED_SCHEMES = {"mailto", "javascript", "data", "tel"}


class _PageParser(HTMLParser):
    """Collects a page's anchors (`id`, `name`) and the links it makes (`href`, `src`)."""

    def __init__(self) -> None:
        super().__init__()
        self.anchors: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag == "a"):
                self.anchors.add(value)
            elif name in LINK_ATTRIBUTES:
                self.links.append(value)


def _parse(page: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _target_file(site: Path, url_path: str) -> Path | None:
    """The file a URL path serves, the way a static host answers it (`a/` -> `a/index.html`)."""
    candidate = site / unquote(url_path).lstrip("/")
    if candidate.is_dir():
        candidate /= "index.html"
    return candidate if candidate.is_file() else None


def broken_links(site: Path, root_path: str = "/", pages: list[Path] | None = None) -> list[str]:
    """Every internal link or anchor on the site's pages (or on `pages`) that does not resolve.

    `root_path` is the path the site is served under (`site_url`'s): 404.html is served at any
    depth, so MkDocs writes its links from there. A page is parsed when a link first needs it.
    """
    parsed_pages: dict[Path, _PageParser] = {}

    def parsed(page: Path) -> _PageParser:
        if page not in parsed_pages:
            parsed_pages[page] = _parse(page)
        return parsed_pages[page]

    broken: list[str] = []
    for page in sorted(site.rglob("*.html")) if pages is None else pages:
        page_url = urljoin(BASE, page.relative_to(site).as_posix())
        for link in parsed(page).links:
            resolved = urlsplit(urljoin(page_url, link))
            if resolved.scheme in SKIPPED_SCHEMES or f"{resolved.scheme}://{resolved.netloc}/" != BASE:
                continue  # not a page of this site
            path = resolved.path
            if path.startswith(root_path):
                path = "/" + path.removeprefix(root_path)
            where = f"{page.relative_to(site)}: {link}"
            target = _target_file(site, path)
            if target is None:
                broken.append(f"{where} (no such file)")
            elif (
                resolved.fragment
                and target.suffix == ".html"
                and unquote(resolved.fragment) not in parsed(target).anchors
            ):
                broken.append(f"{where} (no anchor #{resolved.fragment})")
    return broken


def test_every_internal_link_and_anchor_resolves(built_site: BuiltSite, request: pytest.FixtureRequest) -> None:
    """Crawl every built page and resolve each `href`/`src` to a file, and each `#fragment` to an id.

    With `--page`, the crawl starts from that page alone: its links, and the anchors they name.
    """
    pages = list(built_site.path.rglob("*.html"))
    assert len(pages) > 1, "the crawl found no pages"
    if page := request.config.getoption("page"):
        source = page.removeprefix("docs/")
        pages = [built_site.path / page_url_path(source) / "index.html"]
        assert pages[0].is_file(), f"--page {page}: the build has no {pages[0]}"
    broken = broken_links(built_site.path, urlsplit(built_site.url).path, pages)
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_crawl_finds_broken_links_and_anchors(tmp_path: Path) -> None:
    """The crawler itself: a missing page and a missing anchor are reported, good ones are not."""
    (tmp_path / "guide").mkdir()
    (tmp_path / "index.html").write_text(
        '<a id="top" href="guide/">ok</a> <a href="guide/#why">ok</a> <a href="#top">ok</a>'
        '<a href="missing/">bad</a> <a href="guide/#nowhere">bad</a> <a href="https://example.org/x">external</a>'
    )
    (tmp_path / "guide" / "index.html").write_text('<h2 id="why">Why</h2><a href="../index.html#top">ok</a>')
    assert broken_links(tmp_path) == [
        "index.html: missing/ (no such file)",
        "index.html: guide/#nowhere (no anchor #nowhere)",
    ]


@pytest.mark.parametrize("link", ["mailto:team@example.org", "javascript:void(0)", "data:,x"])
def test_the_crawl_skips_links_that_are_not_pages(tmp_path: Path, link: str) -> None:
    """Links a static host never serves are not looked up on disk."""
    (tmp_path / "index.html").write_text(f'<a href="{link}">x</a>')
    assert broken_links(tmp_path) == []


def test_broken_page_and_anchor_links_fail_the_build(project_copy: Path) -> None:
    page = project_copy / "docs" / "cheatsheet.md"
    page.write_text(
        page.read_text()
        + "\nSee [a page that is not there](patterns/nowhere.md) and [a missing heading](stack.md#no-such-heading).\n"
    )

    completed = mkdocs_build(project_copy, project_copy / "site")

    log = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert "Doc file 'cheatsheet.md' contains a link 'patterns/nowhere.md'" in log
    assert "Doc file 'cheatsheet.md' contains a link 'stack.md#no-such-heading'" in log
    assert "Aborted with 2 warnings in strict mode!" in log
