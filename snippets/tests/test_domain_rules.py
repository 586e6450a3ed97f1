"""How a domain is written: rules read from the source of `app/` (nothing is imported or run).

Each test also plants the mistake it looks for in a temporary folder and checks that it is
reported, so a check that can never fail cannot pass unnoticed.
"""

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"
MIGRATIONS = APP.parent / "db" / "migrations"


def calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.Call)]


def called_name(call: ast.Call) -> str:
    """`commit` for `self.session.commit()`, `Depends` for `Depends(...)`; empty for anything else."""
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return call.func.id if isinstance(call.func, ast.Name) else ""


def where(path: Path, root: Path, node: ast.AST) -> str:
    return f"{path.relative_to(root.parent)}:{getattr(node, 'lineno', 0)}"


def table_commits(root: Path) -> list[str]:
    """Every `.commit()` called in a table module or in `BaseTable`."""
    tables = [*root.glob("db/*/table.py"), *root.glob("base/base_table.py")]
    return [where(path, root, call) for path in sorted(tables) for call in calls(path) if called_name(call) == "commit"]


def is_endpoint(node: ast.AST) -> bool:
    """A function decorated with `@router.get(...)`, `@router.post(...)` and so on."""
    return isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and isinstance(decorator.func.value, ast.Name)
        and decorator.func.value.id == "router"
        for decorator in node.decorator_list
    )


def endpoint_try_blocks(root: Path) -> list[str]:
    """Every `try` statement in an endpoint (a helper beside it, like the probes' timeout, may catch)."""
    return [
        where(path, root, inner)
        for path in sorted(root.glob("api/*/points.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if is_endpoint(node)
        for inner in ast.walk(node)
        if isinstance(inner, ast.Try | ast.TryStar)
    ]


def services_built_in_endpoints(root: Path) -> list[str]:
    """Every call of a `...Service` class in an endpoint module."""
    return [
        where(path, root, call)
        for path in sorted(root.glob("api/*/points.py"))
        for call in calls(path)
        if called_name(call).endswith("Service")
    ]


def routers_included_elsewhere(root: Path) -> list[str]:
    """Every `include_router` outside `app/api/api.py`, except the factory's one of `root_router`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "api" / "api.py":
            continue
        for call in calls(path):
            included = call.args[0] if call.args else None
            if called_name(call) == "include_router" and not (
                path == root / "main.py" and isinstance(included, ast.Name) and included.id == "root_router"
            ):
                found.append(where(path, root, call))
    return found


def depends_as_defaults(root: Path) -> list[str]:
    """Every parameter whose default is a `Depends(...)` call instead of an `Annotated` alias."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                defaults = [*node.args.defaults, *(value for value in node.args.kw_defaults if value is not None)]
                found += [
                    where(path, root, value)
                    for value in defaults
                    if isinstance(value, ast.Call) and called_name(value) == "Depends"
                ]
    return found


def tables_created_from_entities(root: Path) -> list[str]:
    """Every use of `create_all`, called or passed to `run_sync`: it builds tables from the entity classes."""
    return [
        where(path, root, node)
        for path in sorted(root.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "create_all"
    ]


def hand_named(names: list[str]) -> list[str]:
    """Migration files not named as `dbmate new` names them: `<UTC time, 14 digits>_<name>.sql`."""
    return [name for name in names if not re.fullmatch(r"\d{14}_[a-z0-9_]+\.sql", name)]


def plant(tmp_path: Path, relative: str, source: str) -> Path:
    path = tmp_path / "app" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return tmp_path / "app"


def check(rule: Callable[[Path], list[str]], tmp_path: Path, relative: str, planted: str, line: int = 2) -> None:
    """The rule holds in `app/`, and names the planted mistake at `line` of `relative`."""
    assert rule(APP) == []
    assert rule(plant(tmp_path, relative, planted)) == [f"app/{relative}:{line}"]


def test_no_table_method_commits(tmp_path: Path) -> None:
    planted = "async def insert(self, row):\n    await self.session.commit()\n"
    check(table_commits, tmp_path, "db/shop/table.py", planted)


def test_endpoints_catch_no_exceptions(tmp_path: Path) -> None:
    planted = (
        "@router.get('/orders/{order_id}')\n"
        "async def get_order(service):\n"
        "    try:\n"
        "        return await service.get()\n"
        "    except Exception:\n"
        "        return {'error': 'not found'}\n"
    )
    check(endpoint_try_blocks, tmp_path, "api/shop/points.py", planted, line=3)


def test_endpoints_do_not_build_services_by_hand(tmp_path: Path) -> None:
    planted = "async def get_order(session):\n    service = OrderService(session)\n"
    check(services_built_in_endpoints, tmp_path, "api/shop/points.py", planted)


@pytest.mark.parametrize("relative", ["main.py", "api/shop/__init__.py"])
def test_routers_are_included_only_in_api_py(relative: str, tmp_path: Path) -> None:
    planted = "from app.api.shop.points import router\napp.include_router(router)\n"
    check(routers_included_elsewhere, tmp_path, relative, planted)


def test_no_parameter_defaults_to_depends(tmp_path: Path) -> None:
    planted = "async def get_order(\n    session: AsyncSession = Depends(get_session),\n): ...\n"
    check(depends_as_defaults, tmp_path, "api/shop/points.py", planted)


def test_nothing_creates_tables_from_the_entities(tmp_path: Path) -> None:
    planted = "async def start(connection):\n    await connection.run_sync(SQLModel.metadata.create_all)\n"
    check(tables_created_from_entities, tmp_path, "main.py", planted)
    assert tables_created_from_entities(APP.parent / "tests") == []  # the tests build none either


def test_every_migration_is_named_by_dbmate_new() -> None:
    names = sorted(path.name for path in MIGRATIONS.glob("*.sql"))

    assert names
    assert hand_named(names) == []
    assert hand_named([*names, "002_webhooks.sql"]) == ["002_webhooks.sql"]
