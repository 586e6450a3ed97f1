"""Folder trees: every entry drawn must exist in the real tree, under `snippets/` or the repo.

Trees are drawn with `├──`/`└──`/`│` or by plain indentation; `# comments` after a name
are ignored, `...` stands for entries left out, and `{domain}` matches any folder.
"""

import re
from pathlib import Path

from guidekit.guard.errors import FenceError
from guidekit.markdown.fences import Fence

GLYPHS = re.compile(r"^(?P<prefix>(?:[│|] {2,3}| {4}|[ \t])*)(?:[├└]──|[|`]--)\s*(?P<name>.*)$")


def looks_like_tree(text: str) -> bool:
    """Whether a text block is a folder tree."""
    return any(glyph in text for glyph in ("├──", "└──"))


def tree_entries(text: str) -> list[str]:
    """The paths a tree draws, relative to its root line, directories ending in `/`."""
    lines = [line for line in text.splitlines() if line.strip()]
    entries: list[str] = []
    stack: list[tuple[int, str]] = []
    root = _name(lines[0]) if lines and not GLYPHS.match(lines[0]) else ""
    for line in lines[1:] if root else lines:
        match = GLYPHS.match(line)
        depth, name = (len(match["prefix"]), _name(match["name"])) if match else (_indent(line), _name(line))
        if not name or name.strip(".…") == "":
            continue
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1] if stack else ""
        path = f"{parent}{name}"
        entries.append(path)
        if name.endswith("/"):
            stack.append((depth, path))
    return [f"{root.rstrip('/')}/{entry}" if root not in {"", ".", "./"} else entry for entry in entries]


def _name(text: str) -> str:
    return re.split(r"\s+(?:#|←|<-)|\s{2,}", text.strip(), maxsplit=1)[0].strip()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def check_tree(fence: Fence, root: Path, snippets: Path) -> str:
    """Every entry of the tree exists; the tree is rooted at the repo or at `snippets/`."""
    entries = tree_entries(fence.body)
    if not entries:
        raise FenceError(f"{fence.where}: a folder tree with no entries")
    bases = [root, snippets, root.parent]
    best: tuple[Path, list[str]] | None = None
    for base in bases:
        missing = [entry for entry in entries if not _exists(base, entry)]
        if best is None or len(missing) < len(best[1]):
            best = (base, missing)
    assert best is not None
    base, missing = best
    if missing:
        raise FenceError(
            f"{fence.where}: the tree draws {len(missing)} entries that do not exist under "
            f"{base.name or base}/: {', '.join(missing[:8])}"
        )
    return f"{len(entries)} entries exist under {base.name}/"


def _exists(base: Path, entry: str) -> bool:
    pattern = re.sub(r"\{[^}]+\}", "*", entry.rstrip("/"))
    matches = list(base.glob(pattern)) if "*" in pattern else [base / pattern]
    wants_dir = entry.endswith("/")
    return any(path.is_dir() if wants_dir else path.exists() for path in matches)
