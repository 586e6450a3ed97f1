"""Mermaid: a light syntax check, since the real parser needs a browser.

The first statement must name a known diagram type; quotes must balance on every line
(brackets too in flowcharts); block openers (`subgraph`, `loop`, `alt`, ...) must be closed by `end`;
flowchart edges must use a known arrow.
"""

import re
import subprocess
from pathlib import Path

from guidekit.diagrams import mermaid_bundle
from guidekit.guard.checker import Checker, Context, FenceError, Shown
from guidekit.guard.tools import tool_path

DIAGRAM_TYPES = (
    "flowchart", "graph", "sequenceDiagram", "classDiagram", "stateDiagram", "stateDiagram-v2",
    "erDiagram", "gantt", "journey", "pie", "gitGraph", "mindmap", "timeline", "quadrantChart",
    "C4Context", "C4Container", "C4Component", "block-beta", "packet-beta", "architecture-beta",
)  # fmt: skip
DIRECTIONS = {"TB", "TD", "BT", "RL", "LR"}
BLOCK_OPENERS = {
    "flowchart": ("subgraph",),
    "graph": ("subgraph",),
    "sequenceDiagram": ("loop", "alt", "opt", "par", "critical", "break", "rect", "box"),
}
"""Block openers closed by `end`; other diagram types get only the header and quote checks."""
PAIRS = {"(": ")", "[": "]", "{": "}"}


def check(shown: Shown, _context: Context) -> str:
    """Check one Mermaid diagram's syntax line by line, then parse it with the site's Mermaid."""
    lines = [line.strip() for line in shown.text.splitlines()]
    statements = [(number, line) for number, line in enumerate(lines, 1) if line and not line.startswith("%%")]
    if not statements:
        raise FenceError(f"{shown.where}: an empty mermaid block")
    header = statements[0][1].split()
    kind = header[0]
    if kind not in DIAGRAM_TYPES:
        raise FenceError(f"{shown.where}: `{kind}` is not a Mermaid diagram type ({', '.join(DIAGRAM_TYPES[:6])}, ...)")
    if kind in {"flowchart", "graph"} and len(header) > 1 and header[1] not in DIRECTIONS:
        raise FenceError(f"{shown.where}: `{header[1]}` is not a flowchart direction ({', '.join(sorted(DIRECTIONS))})")
    depth = 0
    for number, line in statements[1:]:
        where = shown.at(number)
        if kind in {"flowchart", "graph"}:
            _check_balanced(line, where)
        elif line.count('"') % 2:
            raise FenceError(f"{where}: unbalanced quote in `{line}`")
        first = line.split()[0]
        if first in BLOCK_OPENERS.get(kind, ()):
            depth += 1
        elif first == "end":
            depth -= 1
            if depth < 0:
                raise FenceError(f"{where}: `end` closes no block")
    if depth:
        raise FenceError(f"{shown.where}: {depth} block(s) opened and never closed with `end`")
    return _parse_with_mermaid(shown, kind)


def _parse_with_mermaid(shown: Shown, kind: str) -> str:
    node = tool_path("node")
    if node is None:
        return f"{kind}: line-based syntax check (no Node to parse with)"
    bundle = mermaid_bundle()
    completed = subprocess.run(
        [node, str(Path(__file__).with_name("mermaid_parse.js")), str(bundle)],
        input=shown.text,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if completed.returncode != 0:
        raise FenceError(f"{shown.where}: Mermaid cannot parse this diagram:\n{completed.stdout}{completed.stderr}")
    return f"parsed by mermaid {bundle.parent.name.removeprefix('mermaid-')} as {completed.stdout.strip()}"


def _check_balanced(line: str, where: str) -> None:
    unquoted = re.sub(r'"[^"]*"', '""', line)
    if unquoted.count('"') % 2:
        raise FenceError(f"{where}: unbalanced quote in `{line}`")
    arrows_removed = re.sub(r"[-=.]*[<>ox]?[-=.]+[>ox]|--[|)]|\|[^|]*\|", " ", unquoted)
    stack: list[str] = []
    for char in arrows_removed:
        if char in PAIRS:
            stack.append(PAIRS[char])
        elif char in PAIRS.values() and (not stack or stack.pop() != char):
            raise FenceError(f"{where}: unbalanced `{char}` in `{line}`")
    if stack:
        raise FenceError(f"{where}: unbalanced brackets, `{stack[-1]}` missing in `{line}`")


CHECKER = Checker(frozenset({"mermaid"}), check)
