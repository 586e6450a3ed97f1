"""`layer-rules`: the import rules `snippets/tests/test_layer_rules.py` enforces, read from its `LAYER_RULES`."""

import ast

from guidekit.generated.tables import table
from guidekit.paths import SNIPPETS

LAYER_RULES_SOURCE = SNIPPETS / "tests" / "test_layer_rules.py"


def generate(args: list[str]) -> str:
    """The rules as a table: what each says, the modules it applies to, the imports they may not make."""
    module = ast.parse(LAYER_RULES_SOURCE.read_text(encoding="utf-8"))
    assignment = next(
        node
        for node in module.body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "LAYER_RULES" for t in node.targets)
    )
    rules: list[tuple[str, str, str]] = ast.literal_eval(assignment.value)
    rows = [(rule, f"`{applies_to}`", f"`{forbidden}`") for rule, applies_to, forbidden in rules]
    return table(rows, ("Rule", "Modules it applies to", "Imports they may not make"))
