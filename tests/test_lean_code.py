"""Highlighted code carries only the markup a reader's browser uses (guidekit.extensions.lean_code).

The pages are converted as MkDocs converts them (the `page_markdown` fixture: the site's own
Markdown extensions and settings), so a change to `mkdocs.yml` that brings the unused markup back
fails here.
"""

import html
import re
from collections.abc import Callable
from pathlib import Path

import material
from markdown import Markdown

from guidekit.extensions.lean_code import COLOUR, KEPT, lean
from guidekit.paths import ROOT

PAGE = """# Commands and code

```console
$ uv run pytest -q
..                                                                       [100%]
2 passed in 0.10s
$ echo done
done
```

```python
def add(first: int, second: int) -> int:
    return first + second
```
"""
_TAG = re.compile(r"<[^>]+>")


def _code_text(page: str) -> list[str]:
    """The text of each code block, as a browser shows it."""
    return [html.unescape(_TAG.sub("", block)) for block in re.findall(r"<pre\b.*?</pre>", page, re.DOTALL)]


def test_code_blocks_keep_only_the_line_spans_of_console_output(page_markdown: Callable[[str, str], Markdown]) -> None:
    page = page_markdown(PAGE, "guide/new.md").convert(PAGE)
    line_spans = re.findall(r'<span id="__span-\d+-\d+">(.*?)\n</span>', page)
    assert len(line_spans) == 3, page  # the three output lines, for the copy button to leave out
    assert all(span.startswith('<span class="go">') for span in line_spans), line_spans
    assert "<span></span>" not in page


def test_code_blocks_have_no_spans_for_names_whitespace_operators_or_punctuation(
    page_markdown: Callable[[str, str], Markdown],
) -> None:
    page = page_markdown(PAGE, "guide/new.md").convert(PAGE)
    assert not re.search(r'<span class="(n|w|o|ow|p|na|nv|vc|vg|vi)">', page), page
    assert '<span class="nf">add</span>' in page  # tokens with a colour of their own keep their span


def test_removing_the_markup_keeps_every_character_of_the_code() -> None:
    written = (
        '<pre><span></span><code><span id="__span-0-1"><span class="k">def</span><span class="w"> </span>'
        '<span class="n">a</span><span class="p">()</span>\n</span><span id="__span-0-2">\n</span>'
        '<span id="__span-0-3"><span class="go">out &lt;1&gt;</span>\n</span></code></pre>'
    )
    leaner = lean(written)
    assert _code_text(leaner) == _code_text(written)
    assert leaner == (
        '<pre><code><span class="k">def</span> a()\n\n'
        '<span id="__span-0-3"><span class="go">out &lt;1&gt;</span>\n</span></code></pre>'
    )


def test_neighbouring_tokens_of_one_colour_share_one_span_and_the_text_stays() -> None:
    written = (
        '<pre><code><span class="nf">f</span><span class="p">(</span><span class="o">**</span>'
        '<span class="n">k</span><span class="p">)</span><span class="w"> </span><span class="o">-&gt;</span> '
        '<span class="kc">None</span><span class="p">:</span>  <span class="c1"># (1)!</span>\n'
        '<span class="s2">&quot;a&quot;</span> <span class="s2">&quot;b&quot;</span> <span class="mi">1</span>'
        '<span class="sa">f</span><span class="s2">&quot;&quot;</span>\n'
        '<span class="gp">$ </span><span class="nb">echo</span> <span class="gp">x</span></code></pre>'
    )
    leaner = lean(written)
    assert _code_text(leaner) == _code_text(written)
    assert leaner == (
        '<pre><code><span class="nf">f</span>(**k) -&gt; None:  <span class="c1"># (1)!</span>\n'
        '<span class="s2">&quot;a&quot; &quot;b&quot;</span> <span class="mi">1</span>'
        'f<span class="s2">&quot;&quot;</span>\n'
        '<span class="gp">$ </span><span class="nb">echo</span> <span class="gp">x</span></code></pre>'
    )


def test_only_code_loses_spans() -> None:
    page = '<p><span class="filename">app.py</span> <span class="p">x</span></p><code><span class="w"> </span></code>'
    assert lean(page) == '<p><span class="filename">app.py</span> <span class="p">x</span></p><code> </code>'


def _theme_colours() -> dict[str, str]:
    """Each Pygments class the installed theme colours, and the variable it colours it with."""
    (stylesheet,) = (Path(material.__file__).parent / "templates/assets/stylesheets").glob("main.*.min.css")
    colours: dict[str, str] = {}
    for selectors, variable in re.findall(r"([^{}]*)\{color:var\((--md-code-hl-[a-z-]+)\)\}", stylesheet.read_text()):
        for name in re.findall(r"\.highlight \.([a-z0-9]+)(?=,|$)", selectors):
            colours[name] = variable
    return colours


# The colours a class left as plain text may have: the theme's name colour, and the three the
# theme greys, which theme-fixes.css sets to the code's colour in both schemes.
AS_CODE = {"--md-code-hl-name-color"}
MADE_CODE = {"--md-code-hl-operator-color", "--md-code-hl-punctuation-color", "--md-code-hl-variable-color"}


def test_the_colour_table_is_the_installed_themes() -> None:
    """Classes merged into one span look alike in both schemes; a class left as text has the code's colour."""
    colours = _theme_colours()
    assert len(colours) > 40, colours
    by_look: dict[str, set[str]] = {}
    for name, variable in colours.items():
        if name in KEPT:
            continue
        if name not in COLOUR:  # written as plain text: coloured as the code is (below)
            assert variable in AS_CODE | MADE_CODE, name
            continue
        by_look.setdefault(COLOUR[name], set()).add(variable)
    assert set(COLOUR) <= set(colours), set(COLOUR) - set(colours)
    assert all(len(variables) == 1 for variables in by_look.values()), by_look
    assert not (AS_CODE | MADE_CODE) & set().union(*by_look.values()), by_look
    # Every rule that sets the name colour makes it the code's colour (the theme's default and slate
    # schemes); theme-fixes.css, loaded after the theme, makes the three grey ones the code's colour
    # in one rule for both schemes.
    stylesheets = Path(material.__file__).parent / "templates/assets/stylesheets"
    css = "".join(path.read_text() for path in stylesheets.glob("*.min.css"))
    blocks = [dict(re.findall(r"(--md-[a-z-]+):\s*([^;}]+)", block)) for block in re.findall(r"\{([^{}]*)\}", css)]
    names = [block["--md-code-hl-name-color"] for block in blocks if "--md-code-hl-name-color" in block]
    assert names, "no rule sets the name colour"
    assert set(names) == {"var(--md-code-fg-color)"}, names
    fixes = re.sub(r"/\*.*?\*/", "", (ROOT / "docs/assets/stylesheets/theme-fixes.css").read_text(), flags=re.DOTALL)
    setting = [
        (
            _selectors(rule[1]),
            _declarations(rule[2]),
            fixes[: rule.start()].count("{") - fixes[: rule.start()].count("}"),
        )
        for rule in re.finditer(r"([^{}]*)\{([^{}]*)\}", fixes)
        if MADE_CODE & set(_declarations(rule[2]))
    ]
    # one rule, at the top level (not in `@media print`, say), for both schemes
    assert [(selectors, depth) for selectors, _, depth in setting] == [(BOTH_SCHEMES, 0)], setting
    assert {variable: setting[0][1].get(variable) for variable in MADE_CODE} == dict.fromkeys(
        MADE_CODE, "var(--md-code-fg-color)"
    )


BOTH_SCHEMES = frozenset({"[data-md-color-scheme=default]", "[data-md-color-scheme=slate]"})


def _selectors(text: str) -> frozenset[str]:
    """A rule's selectors, each without quotes or surrounding blanks."""
    return frozenset(selector.strip().replace('"', "") for selector in text.split(","))


def _declarations(body: str) -> dict[str, str]:
    """The custom properties a rule sets, with their values stripped."""
    return {name: value.strip() for name, value in re.findall(r"(--md-[a-z-]+):\s*([^;}]+)", body)}


def _theme_stylesheets() -> list[Path]:
    """The stylesheets of both builders' themes: Material's, and Zensical's (each of its variants)."""
    import zensical

    roots = [Path(material.__file__).parent, Path(zensical.__file__).parent]
    return [path for root in roots for path in (root / "templates/assets/stylesheets").rglob("*.css")]


def test_the_themes_set_the_colours_made_code_only_where_theme_fixes_wins() -> None:
    """theme-fixes.css, loaded after the theme, sets them on the scheme selectors; a theme rule with a
    more specific selector (a primary colour's, say) would win over it and grey them again."""
    found = {
        _selectors(rule[1])
        for stylesheet in _theme_stylesheets()
        for rule in re.finditer(r"([^{}]*)\{([^{}]*)\}", stylesheet.read_text())
        if MADE_CODE & set(_declarations(rule[2]))
    }
    assert found, "no theme rule sets the operator, punctuation or variable colour"
    allowed = {frozenset({":root", "[data-md-color-scheme=default]"}), frozenset({"[data-md-color-scheme=slate]"})}
    assert found <= allowed, found - allowed
