"""Highlighted code carries only the markup a reader's browser uses (guidekit.extensions.lean_code).

The pages are converted as MkDocs converts them (the `page_markdown` fixture: the site's own
Markdown extensions and settings), so a change to `mkdocs.yml` that brings the unused markup back
fails here.
"""

import html
import re
from collections.abc import Callable

from markdown import Markdown

from guidekit.extensions.lean_code import lean

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


def test_code_blocks_have_no_spans_for_names_or_whitespace(page_markdown: Callable[[str, str], Markdown]) -> None:
    page = page_markdown(PAGE, "guide/new.md").convert(PAGE)
    assert not re.search(r'<span class="[nw]">', page), page
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
        '<pre><code><span class="k">def</span> a<span class="p">()</span>\n\n'
        '<span id="__span-0-3"><span class="go">out &lt;1&gt;</span>\n</span></code></pre>'
    )
