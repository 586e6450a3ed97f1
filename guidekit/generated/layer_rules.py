"""`layer-rules`: the import rules `snippets/tests/test_layer_rules.py` enforces, read from its `LAYER_RULES`."""

import ast
from pathlib import Path

from guidekit.generated.tables import table

LAYER_RULES_SOURCE = Path("snippets", "tests", "test_layer_rules.py")
"""Relative to the project's root."""


def generate(args: list[str], root: Path) -> str:
    """The rules as a table: what each says, the modules it applies to, the imports they may not make."""
    module = ast.parse((root / LAYER_RULES_SOURCE).read_text(encoding="utf-8"))
    assignment = next(
        node
        for node in module.body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "LAYER_RULES" for t in node.targets)
    )
    rules: list[tuple[str, str, str]] = ast.literal_eval(assignment.value)
    rows = [(rule, f"`{applies_to}`", f"`{forbidden}`") for rule, applies_to, forbidden in rules]
    return table(rows, ("Rule", "Modules it applies to", "Imports they may not make"))
