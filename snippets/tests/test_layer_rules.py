"""Who may import whom: the layer rules, enforced by reading every import in
`app/`.
"""

import ast
import re
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"


# --8<-- [start:layer_rules]
# (rule, which modules it applies to, which `app` imports they may not make)
LAYER_RULES = [
    (
        "core imports no other app layer",
        r"app\.core(\..+)?",
        r"app\.(?!core\b).+",
    ),
    (
        "base and db import only core, base and db",
        r"app\.(base|db)(\..+)?",
        r"app\.(?!(core|base|db)\b).+",
    ),
    (
        "points do not import tables",
        r"app\.api\.\w+\.points",
        r"app\.db\.\w+\.table",
    ),
    (
        "services do not import points",
        r"app\.api\.\w+\.service",
        r"app\.api\.\w+\.points",
    ),
    (
        "tasks import only core, base, db, the Celery app and services",
        r"app\.celery(\..+)?",
        r"app\.(?!(core|base|db|celery|celery_app)\b)"
        r"(?!api\.\w+\.service\b).+",
    ),
    (
        "the Celery app imports only core",
        r"app\.celery_app",
        r"app\.(?!core\b).+",
    ),
    (
        "nothing imports task code: the API enqueues by name",
        r"app(\..+)?",
        r"app\.celery\.tasks(\..+)?",
    ),
]


def imports_of(path: Path, root: Path) -> list[tuple[int, str]]:
    """Every module a file imports, as `(line, dotted.name)`; `from a import b`
    also yields `a.b`.
    """
    module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
    package = (
        module if path.name == "__init__.py" else module.rpartition(".")[0]
    )
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            # relative import: resolve it against this file's package
            if node.level:
                anchor = (
                    package.rsplit(".", node.level - 1)[0]
                    if node.level > 1
                    else package
                )
                base = f"{anchor}.{base}" if base else anchor
            found.append((node.lineno, base))
            found += [
                (node.lineno, f"{base}.{alias.name}") for alias in node.names
            ]
    return found


def violations(root: Path, applies_to: str, forbidden: str) -> list[str]:
    """`file:line imports name` for each forbidden import made by a module the
    rule applies to.
    """
    found = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join(
            path.relative_to(root.parent).with_suffix("").parts
        ).removesuffix(".__init__")
        if not re.fullmatch(applies_to, module):
            continue
        reported_lines = set()
        for line, name in imports_of(path, root):
            if line not in reported_lines and re.fullmatch(forbidden, name):
                reported_lines.add(line)
                found.append(
                    f"{path.relative_to(root.parent)}:{line} imports {name}"
                )
    return found


@pytest.mark.parametrize(
    ("rule", "applies_to", "forbidden"),
    LAYER_RULES,
    ids=[rule[0] for rule in LAYER_RULES],
)
def test_layer_rule(rule: str, applies_to: str, forbidden: str) -> None:
    assert violations(APP, applies_to, forbidden) == [], (
        f"Layer rule broken: {rule}"
    )


# --8<-- [end:layer_rules]


@pytest.mark.parametrize(
    ("rule", "relative", "source", "reported"),
    [
        (
            0,
            "core/config.py",
            "from app.db.database import SessionDep\n",
            "app.db.database",
        ),
        (1, "db/database.py", "import app.api.api\n", "app.api.api"),
        (
            2,
            "api/shop/points.py",
            "from app.db.order import table\n",
            "app.db.order.table",
        ),
        (
            3,
            "api/shop/service.py",
            "from .points import router\n",
            "app.api.shop.points",
        ),
        (
            4,
            "celery/tasks.py",
            "from app.api.shop.points import router\n",
            "app.api.shop.points",
        ),
        (
            5,
            "celery_app.py",
            "from app.db.database import create_engine\n",
            "app.db.database",
        ),
        (
            6,
            "api/shop/events.py",
            "from app.celery import tasks\n",
            "app.celery.tasks",
        ),
    ],
)
def test_each_rule_reports_a_planted_import(
    rule: int, relative: str, source: str, reported: str, tmp_path: Path
) -> None:
    """A checker that never fails proves nothing: plant one bad import per rule
    and see it named.
    """
    path = tmp_path / "app" / relative
    path.parent.mkdir(parents=True)
    path.write_text(source)
    _, applies_to, forbidden = LAYER_RULES[rule]

    assert violations(tmp_path / "app", applies_to, forbidden) == [
        f"app/{relative}:1 imports {reported}"
    ]
