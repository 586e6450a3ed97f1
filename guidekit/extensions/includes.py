"""Check every `--8<--` include of a page before pymdownx.snippets expands it (both builders).

The grammar and the checks are `guidekit.markdown.includes`; this names the page and the line.
Priority 37: before pymdownx.snippets (32) and before the other extensions change the page.
"""

from pathlib import Path
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

from guidekit.extensions.page import PageError, page_written
from guidekit.markdown.includes import include_targets, problems_with, swallowed_lines


class IncludesCheck(Preprocessor):
    """Fail on a broken include or on a line pymdownx.snippets would drop, naming each page line."""

    def run(self, lines: list[str]) -> list[str]:
        page = page_written(self.md)
        if page is None:
            return lines
        written = page.written()
        # Where pymdownx.snippets looks for the files: its first `base_path`, made absolute.
        snippets: Any = self.md.preprocessors["snippet"]  # pymdownx.snippets.SnippetPreprocessor
        base = Path(snippets.base_path[0])
        errors = [
            f"{page.where}:{number}: {problem}"
            for number, target in include_targets(written)
            if (problem := problems_with(target, base)) is not None
        ]
        errors += [f"{page.where}:{number}: {problem}" for number, problem in swallowed_lines(written)]
        if errors:
            raise PageError("Broken snippet include(s):\n" + "\n".join(errors))
        return lines


class IncludesCheckExtension(Extension):
    """Registers the check; it needs pymdownx.snippets, whose `base_path` it reads."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.preprocessors.register(IncludesCheck(md), "guidekit_includes_check", 37)


def makeExtension(**kwargs: object) -> IncludesCheckExtension:  # noqa: N802 (Python-Markdown's name)
    """The entry point Python-Markdown calls for `guidekit.extensions.includes`."""
    return IncludesCheckExtension(**kwargs)
