"""The site's configuration and its nav: the one reader of `mkdocs.yml` and the one walker of `nav:`."""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from mkdocs.utils.yaml import get_yaml_loader

from guidekit.paths import MKDOCS_YML


def site_config(path: Path = MKDOCS_YML) -> dict[str, Any]:
    """`mkdocs.yml` (this checkout's, or the one at `path`) as plain data."""
    # MkDocs' own loader: the file reads site_url from !ENV.
    loader = get_yaml_loader()
    # A value the file computes while it loads (llms.txt's sections, from this very file) reads as None.
    loader.add_multi_constructor("tag:yaml.org,2002:python/object/apply:", lambda *_: None)
    config: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    return config


def pages_in(entry: object) -> list[str]:
    """The Markdown files of one nav entry and its children, in reading order; links are not pages."""
    if isinstance(entry, str):
        return [entry] if entry.endswith(".md") and not urlsplit(entry).scheme else []
    if isinstance(entry, list):
        return [page for child in entry for page in pages_in(child)]
    if isinstance(entry, dict):
        return [page for child in entry.values() for page in pages_in(child)]
    raise ValueError(f"unexpected nav entry: {entry!r}")


def nav_pages(nav: list[object] | None = None) -> list[str]:
    """Every page of the nav as a source path (`database/soft-delete.md`), in reading order."""
    pages = pages_in(site_config()["nav"] if nav is None else nav)
    if not pages:
        raise ValueError("mkdocs.yml has no nav: the site's tests and llms.txt walk the nav")
    return pages


def sections_from(nav: list[object]) -> dict[str, list[str]]:
    """`{title: [pages]}` for each top-level nav entry; untitled top-level pages go under "Pages"."""
    sections: dict[str, list[str]] = {}
    for entry in nav:
        if isinstance(entry, dict):
            for title, children in entry.items():
                sections[title] = pages_in(children)
        else:
            sections.setdefault("Pages", []).extend(pages_in(entry))
    return {title: pages for title, pages in sections.items() if pages}


def page_url_path(source: str) -> str:
    """The URL path a page gets with directory URLs: `a/b.md` -> `a/b/`, `a/index.md` -> `a/`."""
    stem = source.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        return stem.removesuffix("index")
    return f"{stem}/"
