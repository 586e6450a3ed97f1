"""How the service's code is written: rules read from the source of `app/`
(nothing is imported or run).

Each rule is a set of files and the nodes of their syntax tree that break it.
Each test checks that the rule reads real files of `app/` and finds nothing
there, then plants the mistake in a temporary folder and checks that it is
reported: a check that can never fail cannot pass unnoticed. The import rules
between layers are in `test_layer_rules.py`.
"""

import ast
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"
MIGRATIONS = APP.parent / "db" / "migrations"
ROUTE_METHODS = {"get", "post", "put", "patch", "delete"}
HTTP_PACKAGES = {"fastapi", "starlette"}


@dataclass(frozen=True)
class Rule:
    """`files` picks the modules under an `app/` folder; `breaks` yields the
    nodes of one module that break the rule.
    """

    files: Callable[[Path], Iterable[Path]]
    breaks: Callable[[Path, ast.Module], Iterable[ast.AST]]


def violations(rule: Rule, root: Path) -> list[str]:
    """`app/<file>:<line>` for every node that breaks the rule in the files it
    reads under `root`.
    """
    return [
        f"{path.relative_to(root.parent)}:{getattr(node, 'lineno', 0)}"
        for path in sorted(rule.files(root))
        for node in sorted(
            rule.breaks(
                path.relative_to(root),
                ast.parse(path.read_text(encoding="utf-8")),
            ),
            key=lambda node: getattr(node, "lineno", 0),
        )
    ]


def called_name(call: ast.Call) -> str:
    """`commit` for `self.session.commit()`, `Depends` for `Depends(...)`;
    empty for anything else.
    """
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return call.func.id if isinstance(call.func, ast.Name) else ""


def calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def endpoints(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Functions decorated with `@router.get(...)`, `@router.post(...)` and the
    like.
    """
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr in ROUTE_METHODS
            for decorator in node.decorator_list
        )
    ]


def every_module(root: Path) -> Iterable[Path]:
    return root.rglob("*.py")


def domain_files(name: str) -> Callable[[Path], Iterable[Path]]:
    """`name` in each package of `api/` that has a service (the health probes
    have none).
    """
    return lambda root: [
        path.parent / name for path in root.glob("api/*/service.py")
    ]


TABLES_DO_NOT_COMMIT = Rule(
    files=lambda root: [
        *root.glob("db/*/table.py"),
        *root.glob("base/base_table.py"),
    ],
    breaks=lambda _, tree: [
        call for call in calls(tree) if called_name(call) == "commit"
    ],
)

# A helper beside the endpoints, like the probes' timeout, may catch.
ENDPOINTS_CATCH_NOTHING = Rule(
    files=lambda root: root.glob("api/*/points.py"),
    breaks=lambda _, tree: [
        node
        for function in endpoints(tree)
        for node in ast.walk(function)
        if isinstance(node, ast.Try | ast.TryStar)
    ],
)


def wiring_by_hand(_: Path, tree: ast.Module) -> Iterable[ast.AST]:
    """An endpoint parameter typed as a session, and any `...Service(...)` call
    in the module.
    """
    for function in endpoints(tree):
        arguments = function.args
        for argument in [
            *arguments.posonlyargs,
            *arguments.args,
            *arguments.kwonlyargs,
        ]:
            annotation = (
                ast.unparse(argument.annotation) if argument.annotation else ""
            )
            if "AsyncSession" in annotation or "SessionDep" in annotation:
                yield argument
    yield from (
        call for call in calls(tree) if called_name(call).endswith("Service")
    )


ENDPOINTS_USE_THE_SERVICE_ALIAS = Rule(
    files=domain_files("points.py"), breaks=wiring_by_hand
)


def depends_defaults(_: Path, tree: ast.Module) -> Iterable[ast.AST]:
    """Every parameter default that is a `Depends(...)` call instead of an
    `Annotated` alias.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for value in [*node.args.defaults, *node.args.kw_defaults]:
                if (
                    isinstance(value, ast.Call)
                    and called_name(value) == "Depends"
                ):
                    yield value


NO_DEPENDS_DEFAULTS = Rule(files=every_module, breaks=depends_defaults)


def http_imports(_: Path, tree: ast.Module) -> Iterable[ast.AST]:
    """Imports from FastAPI or Starlette; `Depends`, for the service's own
    alias, is the one allowed.
    """
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] in HTTP_PACKAGES
        ):
            if any(alias.name != "Depends" for alias in node.names):
                yield node
        elif isinstance(node, ast.Import) and any(
            alias.name.split(".")[0] in HTTP_PACKAGES for alias in node.names
        ):
            yield node


SERVICES_SPEAK_NO_HTTP = Rule(
    files=domain_files("service.py"), breaks=http_imports
)


def include_router_calls(
    relative: Path, tree: ast.Module
) -> Iterable[ast.AST]:
    """Every `include_router` outside `api/api.py`, except the factory's one of
    `root_router`.
    """
    if relative == Path("api/api.py"):
        return
    for call in calls(tree):
        included = call.args[0] if call.args else None
        if called_name(call) == "include_router" and not (
            relative == Path("main.py")
            and isinstance(included, ast.Name)
            and included.id == "root_router"
        ):
            yield call


ROUTERS_ONLY_IN_API_PY = Rule(files=every_module, breaks=include_router_calls)

# `create_all`, called or passed to `run_sync`, builds tables from the entity
# classes.
NO_CREATE_ALL = Rule(
    files=every_module,
    breaks=lambda _, tree: [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "create_all"
    ],
)


def check(
    rule: Rule, tmp_path: Path, planted: dict[str, str], reported: list[str]
) -> None:
    """The rule reads files of `app/` and finds nothing there; in the planted
    files it reports `reported`.
    """
    assert list(rule.files(APP)), "the rule reads no file of app/"
    assert violations(rule, APP) == []
    for relative, source in planted.items():
        path = tmp_path / "app" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    assert violations(rule, tmp_path / "app") == reported


def test_no_table_method_commits(tmp_path: Path) -> None:
    planted = "async def insert(self, row):\n    await self.session.commit()\n"
    check(
        TABLES_DO_NOT_COMMIT,
        tmp_path,
        {"db/shop/table.py": planted},
        ["app/db/shop/table.py:2"],
    )


def test_no_endpoint_catches_exceptions(tmp_path: Path) -> None:
    """Errors reach the central handlers: a domain error becomes its problem, a
    bug a logged 500.
    """
    planted = (
        "@router.get('/orders/{order_id}')\n"
        "async def get_order(service):\n"
        "    try:\n"
        "        return await service.get()\n"
        "    except Exception as e:\n"
        "        return {'success': False, 'error': str(e)}\n"
    )
    check(
        ENDPOINTS_CATCH_NOTHING,
        tmp_path,
        {"api/shop/points.py": planted},
        ["app/api/shop/points.py:3"],
    )


def test_endpoints_get_their_service_from_an_annotated_alias(
    tmp_path: Path,
) -> None:
    """No endpoint takes the session or builds its service: it declares
    `service: ...ServiceDep`.
    """
    planted = (
        "@router.get('/orders/{order_id}')\n"
        "async def get_order(order_id: int, session: SessionDep):\n"
        "    return await OrderService(session).get(order_id)\n"
        "@router.get('/orders')\n"
        "async def list_orders(db: AsyncSession):\n"
        "    return await orders(db)\n"
    )
    files = {"api/shop/service.py": "", "api/shop/points.py": planted}
    reported = [f"app/api/shop/points.py:{line}" for line in (2, 3, 5)]
    check(ENDPOINTS_USE_THE_SERVICE_ALIAS, tmp_path, files, reported)


def test_no_parameter_defaults_to_depends(tmp_path: Path) -> None:
    planted = (
        "async def get_order(\n    session: AsyncSession ="
        " Depends(get_session),\n): ...\n"
    )
    check(
        NO_DEPENDS_DEFAULTS,
        tmp_path,
        {"api/shop/points.py": planted},
        ["app/api/shop/points.py:2"],
    )


def test_services_do_not_speak_http(tmp_path: Path) -> None:
    """A service raises `NotFoundError`, never `HTTPException`, and picks no
    status code.
    """
    planted = (
        "from fastapi import Depends\n"
        "from fastapi import Depends, HTTPException\n"
        "from starlette import status\n"
        "import fastapi\n"
    )
    reported = [f"app/api/shop/service.py:{line}" for line in (2, 3, 4)]
    check(
        SERVICES_SPEAK_NO_HTTP,
        tmp_path,
        {"api/shop/service.py": planted},
        reported,
    )


@pytest.mark.parametrize("relative", ["main.py", "api/shop/__init__.py"])
def test_routers_are_included_only_in_api_py(
    relative: str, tmp_path: Path
) -> None:
    planted = (
        "from app.api.shop.points import router\napp.include_router(router)\n"
    )
    check(
        ROUTERS_ONLY_IN_API_PY,
        tmp_path,
        {relative: planted},
        [f"app/{relative}:2"],
    )


def test_nothing_creates_tables_from_the_entities(tmp_path: Path) -> None:
    planted = (
        "async def start(connection):\n    await"
        " connection.run_sync(SQLModel.metadata.create_all)\n"
    )
    check(NO_CREATE_ALL, tmp_path, {"main.py": planted}, ["app/main.py:2"])
    # The fixtures migrate the test database with dbmate too; only a test about
    # `create_all` calls it.
    fixtures = Rule(
        files=lambda root: root.rglob("conftest.py"),
        breaks=NO_CREATE_ALL.breaks,
    )
    assert list(fixtures.files(APP.parent / "tests"))
    assert violations(fixtures, APP.parent / "tests") == []


def hand_named(names: list[str]) -> list[str]:
    """Migration files not named as `dbmate new` names them: `<UTC time, 14
    digits>_<name>.sql`.
    """
    return [
        name
        for name in names
        if not re.fullmatch(r"\d{14}_[a-z0-9_]+\.sql", name)
    ]


def test_every_migration_is_named_by_dbmate_new() -> None:
    names = sorted(path.name for path in MIGRATIONS.glob("*.sql"))

    assert names
    assert hand_named(names) == []
    assert hand_named([*names, "002_webhooks.sql"]) == ["002_webhooks.sql"]


# --8<-- [start:ownership_rules]
def every_owner_in_a_request(_: Path, tree: ast.Module) -> Iterable[ast.AST]:
    """`EVERY_OWNER` in a class (a service and what it builds) or an endpoint:
    a request that reads every principal's rows. Module-level functions, the
    jobs a worker runs for no principal, may use it."""
    scopes: list[ast.AST] = [
        node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
    ]
    found = {
        node
        for scope in [*scopes, *endpoints(tree)]
        for node in ast.walk(scope)
        if (isinstance(node, ast.Name) and node.id == "EVERY_OWNER")
        or (isinstance(node, ast.Attribute) and node.attr == "EVERY_OWNER")
    }
    return sorted(found, key=lambda node: (node.lineno, node.col_offset))


REQUESTS_ACT_FOR_THEIR_OWNER = Rule(
    files=lambda root: root.glob("api/**/*.py"),
    breaks=every_owner_in_a_request,
)

SQL_BUILDERS = {"select", "insert", "update", "delete", "text"}
SQL_PACKAGES = {"sqlalchemy", "sqlmodel"}
SESSION_QUERIES = {
    "get",
    "get_one",
    "execute",
    "scalar",
    "scalars",
    "stream",
    "stream_scalars",
    "merge",
}


def runs_a_query_on_a_session(node: ast.AST) -> bool:
    """`session.get(...)`, `self.session.execute(...)` and the like: a query
    that no table builds.
    """
    if not isinstance(node, ast.Call) or not isinstance(
        node.func, ast.Attribute
    ):
        return False
    owner = node.func.value
    named_session = (
        isinstance(owner, ast.Name) and owner.id == "session"
    ) or (isinstance(owner, ast.Attribute) and owner.attr == "session")
    return named_session and node.func.attr in SESSION_QUERIES


def sql_outside_the_tables(_: Path, tree: ast.Module) -> Iterable[ast.AST]:
    """A statement builder imported, `sqlalchemy`/`sqlmodel` imported whole, or
    a query run on a session named `session`: a query written here would skip
    the owner filter of the tables."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            alias.name.split(".")[0] in SQL_PACKAGES for alias in node.names
        ):
            yield node
        elif (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] in SQL_PACKAGES
        ):
            if any(alias.name in SQL_BUILDERS for alias in node.names):
                yield node
        elif runs_a_query_on_a_session(node):
            yield node


def domain_modules(root: Path) -> Iterable[Path]:
    """Every module of each `api/` package that has a service (the health
    probes have none).
    """
    return [
        path
        for service in root.glob("api/*/service.py")
        for path in service.parent.glob("*.py")
    ]


QUERIES_ONLY_IN_TABLES = Rule(
    files=domain_modules, breaks=sql_outside_the_tables
)


def test_no_request_reaches_the_rows_of_every_owner(tmp_path: Path) -> None:
    """A service builds its tables with the caller's owner; `EVERY_OWNER` stays
    in jobs.
    """
    planted = (
        "class OrderService:\n    def __init__(self, session, owner):\n       "
        " self.orders = OrdersTable(session,"
        " EVERY_OWNER)\n@router.get('/orders')\nasync def"
        " list_orders(session):\n    return await OrdersTable(session,"
        " owned_table.EVERY_OWNER).all()\nasync def purge_orders(session):\n  "
        "  await OrdersTable(session,"
        " EVERY_OWNER).purge_deleted(before=now())\n"
    )
    reported = [f"app/api/shop/service.py:{line}" for line in (3, 6)]
    check(
        REQUESTS_ACT_FOR_THEIR_OWNER,
        tmp_path,
        {"api/shop/service.py": planted},
        reported,
    )


def test_services_and_endpoints_write_no_sql(tmp_path: Path) -> None:
    """Queries live in the table classes, which add `owner = :owner` (and
    `deleted_at IS NULL`) to each.
    """
    planted = (
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "from sqlmodel import col, select\n"
        "import sqlalchemy as sa\n"
        "async def find(self, order_id):\n"
        "    return await self.session.get(Order, order_id)\n"
        "async def count(session):\n"
        "    return await session.scalar(sa.func.count())\n"
    )
    files = {
        "api/shop/service.py": planted,
        "api/shop/points.py": "from sqlalchemy import text\n",
    }
    reported = [
        "app/api/shop/points.py:1",
        *(f"app/api/shop/service.py:{line}" for line in (2, 3, 5, 7)),
    ]
    check(QUERIES_ONLY_IN_TABLES, tmp_path, files, reported)


# --8<-- [end:ownership_rules]
