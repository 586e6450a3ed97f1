"""Highlighted code without the markup nobody uses (both builders): fewer elements to lay out.

Nine tenths of a long page's elements were inside code blocks, and a phone's browser styles and
lays out each one (Lighthouse: total blocking time of seconds on /tutorial/). Removed here, from
the final HTML, without changing a character of the text, or a colour (with theme-fixes.css, which
gives operators, punctuation and variables the code's colour):

- the empty `<span></span>` pymdownx.highlight puts before each block's `<code>`;
- the per-line spans (`line_spans`) of every line but a console block's output lines: the copy
  button leaves those out by their line span (assets/stylesheets/theme-fixes.css), nothing else
  reads them;
- the token spans whose class has no colour of its own: names and constants (`n`, `kc`, coloured
  as the code itself by the theme, in both schemes), operators, punctuation and variables (`o`,
  `p`, `nv`, ...: the theme greys them, theme-fixes.css gives them the code's colour too),
  whitespace (`w`), and the classes the theme does not style at all (`sa`, the `f` of an
  f-string; `fm`, `__init__`); a span of several classes (YAML's `p p-Indicator`) stays, in the
  colour of its first;
- the borders between neighbouring tokens of one colour: two `<span class="s2">` strings with only
  spaces between them become one span (a space shows no colour). Strings, numbers, keywords,
  constants and functions each have their colour. Comments and console prompts and output keep
  their spans: the theme finds code annotations in comments, the copy button reads `.gp` and `.go`.

Punctuation and operators alone are half the spans of a code block, and each span is an element a
phone styles and lays out: Lighthouse's "Style & Layout" on /tutorial/ was 1.8-3.3 s (simulated
phone) with all token spans and 0.7-0.8 s without any. Merging the grey ones removed about a tenth
of a page's elements and moved no score beyond this machine's noise; writing them as plain text
about halves a long page's elements (/patterns/auth/ 3,832 to 1,882; mobile median of 3, 94 to 97 on a
quiet machine, /tutorial/ 90 to 95). `COLOUR` is the theme's stylesheet as this file reads it;
tests/test_lean_code.py checks it against the installed theme and theme-fixes.css, each removal
and merge, and that the text stays the same.
"""

import re

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor

_EMPTY_LEAD = re.compile(r"(<pre\b[^>]*>)<span></span>(?=<code)")
# A line span holds one line: its tokens' spans open and close inside it, and it ends at the line's
# newline (pymdownx.highlight splits tokens at line ends).
_LINE = re.compile(r'<span id="__span-\d+-\d+">([^\n]*)\n</span>')
_OUTPUT = 'class="go"'

# The colour each Pygments class gets from the theme (main.css: `.highlight .s2 { color:
# var(--md-code-hl-string-color) }`), named by what it looks like in both schemes: classes with
# one name here look alike. Classes not named here and not in `KEPT` have no colour of their own:
# the code's (names; operators, punctuation and variables by theme-fixes.css) or none at all.
COLOUR: dict[str, str] = {
    **dict.fromkeys(("cpf", "l", "s", "s1", "s2", "sb", "sc", "si", "ss"), "string"),
    **dict.fromkeys(("cp", "se", "sh", "sr", "sx"), "special"),
    **dict.fromkeys(("il", "m", "mb", "mf", "mh", "mi", "mo"), "number"),
    **dict.fromkeys(("k", "kd", "kn", "kp", "kr", "kt", "nd", "ni", "nl", "nt"), "keyword"),
    **dict.fromkeys(("bp", "nb", "no"), "constant"),
    **dict.fromkeys(("nc", "ne", "nf", "nn"), "function"),
}
KEPT = frozenset(("c", "c1", "ch", "cm", "cs", "sd", "ge", "gh", "go", "gp", "gr", "gs", "gt", "gu", "gd", "gi", "hll"))
"""Classes whose spans stay as they are: comments (the theme finds code annotations in `.c`, `.c1`,
`.cm`), generic output (the copy button reads `.gp` and `.go`), inserted and deleted lines (a
background), highlighted lines (a block)."""
_CODE = re.compile(r"(<code\b[^>]*>)(.*?)(</code>)", re.DOTALL)  # a block's or inline code: no other span
_SPAN = r'<span class="[a-z0-9]+">[^<\n]*</span>'
_TOKENS = re.compile(rf"{_SPAN}(?:[ \t]*{_SPAN})*")
_EACH_TOKEN = re.compile(r'([ \t]*)<span class="([a-z0-9]+)">([^<\n]*)</span>')


def _merged(run: re.Match[str]) -> str:
    """A run of token spans with no colourless token and neighbours of one colour in one span."""
    out: list[str] = []
    colour: str | None = None  # of the span still open at the end of `out`
    space = ""  # blanks not written yet: inside the open span if the next token continues it
    for blank, name, text in _EACH_TOKEN.findall(run[0]):
        space += blank
        if name not in KEPT and name not in COLOUR and not text.strip(" \t"):  # `w`, or a blank token
            space += text
            continue
        if name not in KEPT and colour is not None and COLOUR.get(name) == colour:
            out.append(space + text)
        else:
            out.append(("</span>" if colour else "") + space)
            colour = COLOUR.get(name) if name not in KEPT else None
            out.append(
                f'<span class="{name}">{text}</span>'
                if name in KEPT
                else text
                if colour is None
                else f'<span class="{name}">{text}'
            )
        space = ""
    return "".join(out) + ("</span>" if colour else "") + space


def lean(html: str) -> str:
    """The HTML with the unused markup of highlighted code removed; the text is the same."""
    html = _EMPTY_LEAD.sub(r"\1", html)
    html = _LINE.sub(lambda line: line[0] if _OUTPUT in line[1] else line[1] + "\n", html)
    return _CODE.sub(lambda code: code[1] + _TOKENS.sub(_merged, code[2]) + code[3], html)


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
