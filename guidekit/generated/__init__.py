"""Generated content: `<!-- generated: NAME [ARGS] -->` lines of a page, replaced by content built from the code.

Facts that would go stale when typed by hand (versions, method lists, the folder tree) are
written at build time, one generator per module, looked up by name in `GENERATORS`:

- `stack-versions` (`stack_versions.py`): the constraints in both `pyproject.toml` files, the
  installed versions, and the PostgreSQL version the last test run used (`.record/tested-with.json`,
  written by `guidekit.tested_with`).
- `proven-range` (`proven_range.py`): the lowest and newest releases of the service's dependencies
  that `scripts/lowest_bounds.py` and `scripts/upgrade_check.py` last ran with (`.record/lowest.json`,
  `.record/upgrade.json`).
- `base-table-methods` (`base_table_methods.py`): the public methods of `BaseTable`, read from its source.
- `layer-rules` (`layer_rules.py`): the import rules that `snippets/tests/test_layer_rules.py` enforces.
- `folder-tree [PATH ...]` (`folder_tree.py`): the files under `snippets/` (or the given
  sub-folders), with each module's docstring summary (first paragraph; the part before its
  first ": " when over 70 characters).

Not a marker: `stamp.py` writes each page's "verified" stamp, which `guidekit.extensions.stamp`
adds at the end of every page and `guidekit.llms` after each page's link in llms.txt.
"""

import re
from collections.abc import Callable
from pathlib import Path

from guidekit.generated import base_table_methods, folder_tree, layer_rules, proven_range, stack_versions

MARKER = re.compile(r"^<!-- generated: (?P<name>[a-z-]+)(?P<args>(?: [^ ]+)*) -->$")

# A generator takes the marker's arguments and the root of the project being built (whose files it
# reads), and returns the Markdown that replaces the marker line.
GENERATORS: dict[str, Callable[[list[str], Path], str]] = {
    "layer-rules": layer_rules.generate,
    "stack-versions": stack_versions.generate,
    "proven-range": proven_range.generate,
    "base-table-methods": base_table_methods.generate,
    "folder-tree": folder_tree.generate,
}


class GeneratedContentError(Exception):
    """A marker the build cannot fill: unknown, or its generator failed; the message names the page and line."""


def render(markdown: str, page_path: str, root: Path, lines_before: int = 0) -> str:
    """Replace every marker line of a page of the project at `root`; an unknown or failing marker names
    the page and line (counting `lines_before`, the front matter the builder stripped)."""
    lines = markdown.split("\n")
    for index, line in enumerate(lines):
        number = lines_before + index + 1
        match = MARKER.match(line.strip())
        if match is None:
            continue
        generator = GENERATORS.get(match["name"])
        if generator is None:
            known = ", ".join(sorted(GENERATORS))
            raise GeneratedContentError(
                f"{page_path}:{number}: unknown generated block {match['name']!r}; known: {known}"
            )
        try:
            lines[index] = generator(match["args"].split(), root)
        except (ValueError, OSError) as error:
            raise GeneratedContentError(
                f"{page_path}:{number}: generated block {match['name']!r} failed: {error}"
            ) from error
    return "\n".join(lines)
