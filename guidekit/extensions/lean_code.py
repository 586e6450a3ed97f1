"""Highlighted code without the markup nobody uses (both builders): fewer elements to lay out.

Nine tenths of a long page's elements were inside code blocks, and a phone's browser styles and
lays out each one (Lighthouse: total blocking time of seconds on /tutorial/). Removed here, from
the final HTML, without changing a character of the text or a colour:

- the empty `<span></span>` pymdownx.highlight puts before each block's `<code>`;
- the per-line spans (`line_spans`) of every line but a console block's output lines: the copy
  button leaves those out by their line span (assets/stylesheets/theme-fixes.css), nothing else
  reads them;
- the token spans whose class has no style of its own: names (`n`, coloured as the code itself by
  the theme, in both schemes) and whitespace (`w`).

tests/test_lean_code.py checks each removal and that the text stays the same.
"""

import re

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor

_EMPTY_LEAD = re.compile(r"(<pre\b[^>]*>)<span></span>(?=<code)")
# A line span holds one line: its tokens' spans open and close inside it, and it ends at the line's
# newline (pymdownx.highlight splits tokens at line ends).
_LINE = re.compile(r'<span id="__span-\d+-\d+">([^\n]*)\n</span>')
_UNSTYLED_TOKEN = re.compile(r'<span class="[nw]">([^<]*)</span>')
_OUTPUT = 'class="go"'


def lean(html: str) -> str:
    """The HTML with the unused markup of highlighted code removed; the text is the same."""
    html = _EMPTY_LEAD.sub(r"\1", html)
    html = _LINE.sub(lambda line: line[0] if _OUTPUT in line[1] else line[1] + "\n", html)
    return _UNSTYLED_TOKEN.sub(r"\1", html)


class LeanCode(Postprocessor):
    """Remove the unused markup from the page's final HTML (the code blocks are back from the stash)."""

    def run(self, text: str) -> str:
        return lean(text)


class LeanCodeExtension(Extension):
    """Registers the postprocessor after the raw HTML (the highlighted blocks) is back (30)."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.postprocessors.register(LeanCode(md), "guidekit_lean_code", 5)


def makeExtension(**kwargs: object) -> LeanCodeExtension:  # noqa: N802 (Python-Markdown's name)
    """The entry point Python-Markdown calls for `guidekit.extensions.lean_code`."""
    return LeanCodeExtension(**kwargs)
