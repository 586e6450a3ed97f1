"""One id per code line on a page (both builders): a code block whose line ids another block already uses is renumbered.

pymdownx.highlight gives each line of a block an id, `__span-{block}-{line}` (`line_spans` in
mkdocs.yml), counting blocks per Markdown document. mkdocstrings highlights every signature on
the reference pages as a document of its own, so each one is block 0 and they all repeat
`__span-0-1`: duplicate ids, which the Nu Html Checker reports (tests/test_html_validity.py). A
postprocessor on the final HTML, after the raw HTML (mkdocstrings' output among it) is back in the
page, gives each such block a number no other block of the page has. The `__span-` prefix stays:
the copy button's stylesheet and the survey select lines by it.
"""

import itertools
import re

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor

_BLOCK = re.compile(r"<pre\b.*?</pre>", re.DOTALL)
_LINE_ID = re.compile(r'\bid="__span-(\d+)-')


def unique_line_ids(html: str) -> str:
    """The HTML with each code block whose line-id number an earlier block took renumbered to an unused one."""
    blocks = list(_BLOCK.finditer(html))
    numbers = [{int(found) for found in _LINE_ID.findall(block[0])} for block in blocks]
    taken = set().union(*numbers)
    fresh = itertools.count(max(taken, default=-1) + 1)
    seen: set[int] = set()
    pieces, start = [], 0
    for block, used in zip(blocks, numbers, strict=True):
        text = block[0]
        for number in sorted(used):
            if number not in seen:
                seen.add(number)
                continue
            new = next(fresh)  # above every number on the page: taken by no block, earlier or later
            text = text.replace(f'id="__span-{number}-', f'id="__span-{new}-')
            seen.add(new)
        pieces += [html[start : block.start()], text]
        start = block.end()
    return "".join([*pieces, html[start:]])


class UniqueLineIds(Postprocessor):
    """Renumber the line ids of code blocks that repeat another block's (see the module)."""

    def run(self, text: str) -> str:
        return unique_line_ids(text)


class LineIdsExtension(Extension):
    """Registers the renumbering, after the raw HTML postprocessor (30) has put the stashed HTML back."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.postprocessors.register(UniqueLineIds(md), "guidekit_line_ids", 9)


def makeExtension(**kwargs: object) -> LineIdsExtension:  # noqa: N802 (Python-Markdown's name)
    """The entry point Python-Markdown calls for `guidekit.extensions.line_ids`."""
    return LineIdsExtension(**kwargs)
