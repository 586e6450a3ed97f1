"""Which page a Python-Markdown extension is converting, under MkDocs 1.6 and Zensical 0.0.73.

Neither builder passes the page to an extension: MkDocs registers its `relpath` treeprocessor
(holding the page's `File`) on each page's Markdown instance, Zensical its `rendering_context`
preprocessor (holding the page and the config). Both register them before a conversion runs,
so call these from a processor's `run()`, not from `extendMarkdown()`.
"""

import posixpath
from pathlib import Path, PurePosixPath
from typing import Any, Literal, NamedTuple

from markdown import Markdown
from mkdocs.exceptions import BuildError

from guidekit.markdown.nav import page_url_path


class PageInfo(NamedTuple):
    """The page being converted."""

    src_path: str
    """Relative to `docs/`, `/`-separated: `database/soft-delete.md`."""
    url: str
    """With directory URLs: `database/soft-delete/`; `""` for the home page."""
    source: Path
    """The file as written, for line numbers: both builders strip the front matter before converting."""
    builder: Literal["mkdocs", "zensical"]
    root: Path
    """The project being built (where its config file is): what the extensions read, not `guidekit.paths.ROOT`."""

    @property
    def where(self) -> str:
        """How an error names the page: `docs/database/soft-delete.md`."""
        return f"docs/{self.src_path}"

    @property
    def docs(self) -> Path:
        """The folder of the pages being built (`source` without `src_path`)."""
        return self.source.parents[len(PurePosixPath(self.src_path).parts) - 1]

    def written(self) -> str:
        """The page as written, front matter included, so line numbers are the file's."""
        return self.source.read_text(encoding="utf-8")

    def link_to(self, page: str, anchor: str) -> str:
        """The href, in HTML a postprocessor writes, of `anchor` on another page (`reference/proofs.md`).

        MkDocs has rewritten the page's links before the postprocessors run, so it gets the final
        URL; Zensical rewrites every relative link of the finished HTML from the page's folder, so
        it gets the link to the Markdown file, as the page would write it.
        """
        if self.builder == "mkdocs":
            return posixpath.relpath(page_url_path(page), self.url or ".") + f"/#{anchor}"
        return posixpath.relpath(page, posixpath.dirname(self.src_path) or ".") + f"#{anchor}"


def current_page(md: Markdown) -> PageInfo | None:
    """The page `md` is converting, or None outside a site build (plain `markdown.markdown()`)."""
    if "relpath" in md.treeprocessors:  # MkDocs (mkdocstrings copies it to its docstring Markdown)
        relpath: Any = md.treeprocessors["relpath"]  # mkdocs.structure.pages._RelativePathTreeprocessor
        file, config = relpath.file, relpath.config
        if file.abs_src_path is None:  # a page a plugin makes in memory has no file to read
            return None
        root = Path(config.config_file_path).parent
        # MkDocs gives the home page "./", Zensical "".
        return PageInfo(file.src_uri, "" if file.url == "./" else file.url, Path(file.abs_src_path), "mkdocs", root)
    if "rendering_context" in md.preprocessors:  # Zensical: zensical/extensions/context.py
        context: Any = md.preprocessors["rendering_context"]
        page, config = context.page, context.config
        root = Path(config["root_dir"])
        return PageInfo(page.path, page.url, Path(root, config["docs_dir"], page.path), "zensical", root)
    return None


def converting_a_docstring(md: Markdown) -> bool:
    """Whether `md` is mkdocstrings' inner Markdown, converting one docstring of a page.

    The page's own conversion checks and changes the page; a docstring is left as it is (the
    MkDocs hooks these extensions replace never saw one either).
    """
    return "mkdocstrings_ids" in md.treeprocessors


def page_written(md: Markdown) -> PageInfo | None:
    """The page whose own Markdown `md` is converting; None for a docstring or outside a build."""
    return None if converting_a_docstring(md) else current_page(md)


class PageError(BuildError):
    """A page the site cannot be built from; the message names the page, the line and the fix.

    MkDocs' `BuildError`, so MkDocs stops with the message alone; Zensical stops on any exception.
    """
