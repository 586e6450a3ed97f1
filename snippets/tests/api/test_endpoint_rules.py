"""House rules for endpoints and services, enforced by reading the code in `app/api/`.

An endpoint parses, calls its service and shapes the answer: it catches nothing, touches no
session and builds no service. A service raises domain errors and knows nothing about HTTP.
"""

import ast
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from app.core.config import Settings
from app.main import create_app

API = Path(__file__).resolve().parents[2] / "app" / "api"
ROUTE_METHODS = {"get", "post", "put", "patch", "delete"}


def domains() -> list[Path]:
    """Every package of `app/api/` that has a service: its endpoints must go through it."""
    return sorted(path.parent for path in API.glob("*/service.py"))


def endpoints(tree: ast.Module) -> list[ast.AsyncFunctionDef | ast.FunctionDef]:
    """Functions decorated with `@router.get(...)`, `@router.post(...)` and the like."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)
        and any(
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr in ROUTE_METHODS
            for decorator in node.decorator_list
        )
    ]


def called_name(call: ast.Call) -> str:
    """`Depends` for `Depends(x)` and for `fastapi.Depends(x)`; empty for anything else."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return ""


def endpoint_try_blocks(source: str) -> list[str]:
    """`function:line` for each `try` inside an endpoint."""
    return [
        f"{function.name}:{node.lineno}"
        for function in endpoints(ast.parse(source))
        for node in ast.walk(function)
        if isinstance(node, ast.Try | ast.TryStar)
    ]


def endpoint_wiring(source: str) -> list[str]:
    """What an endpoint wires by hand: a `Depends(...)` default, a session parameter, a `...Service(...)` call."""
    found = []
    for function in endpoints(ast.parse(source)):
        arguments = function.args
        for default in [*arguments.defaults, *arguments.kw_defaults]:
            if isinstance(default, ast.Call) and called_name(default) == "Depends":
                found.append(f"{function.name}:{default.lineno} has a Depends(...) default")
        for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            annotation = ast.unparse(argument.annotation) if argument.annotation else ""
            if "AsyncSession" in annotation or "SessionDep" in annotation:
                found.append(f"{function.name}:{argument.lineno} takes a session")
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and called_name(node).endswith("Service"):
                found.append(f"{function.name}:{node.lineno} builds {called_name(node)}")
    return found


def http_in_service(source: str) -> list[str]:
    """`line name` for each HTTP name a service imports; `Depends`, for its own alias, is the one allowed."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {"fastapi", "starlette"}:
            found += [f"{node.lineno} {node.module}.{alias.name}" for alias in node.names if alias.name != "Depends"]
        elif isinstance(node, ast.Import):
            found += [
                f"{node.lineno} {alias.name}"
                for alias in node.names
                if alias.name.split(".")[0] in {"fastapi", "starlette"}
            ]
    return found


def test_the_rules_read_every_domain_with_its_endpoints() -> None:
    """The checks below would pass on nothing at all; make sure they read real endpoints."""
    assert [domain.name for domain in domains()] == ["messaging", "webhook"]
    for domain in domains():
        assert len(endpoints(ast.parse((domain / "points.py").read_text()))) >= 5


def test_no_endpoint_catches_exceptions() -> None:
    """Errors reach the central handlers: a domain error becomes its problem, a bug a logged 500."""
    for domain in domains():
        assert endpoint_try_blocks((domain / "points.py").read_text()) == [], domain.name


def test_endpoints_get_their_service_from_an_annotated_alias() -> None:
    """No endpoint takes the session, builds its service or repeats `= Depends(...)` in its signature."""
    for domain in domains():
        assert endpoint_wiring((domain / "points.py").read_text()) == [], domain.name


def test_services_do_not_speak_http() -> None:
    """A service raises `NotFoundError`, never `HTTPException`, and picks no status code."""
    for domain in domains():
        assert http_in_service((domain / "service.py").read_text()) == [], domain.name


ENDPOINT = """
@router.get("/{{item_id}}")
async def get_item({parameters}) -> ItemRead:
{body}
"""


@pytest.mark.parametrize(
    ("parameters", "body", "expected_try", "expected_wiring"),
    [
        (
            "item_id: uuid.UUID, service: ItemServiceDep",
            "    try:\n        return await service.get(item_id)\n"
            '    except Exception as e:\n        return {"success": False, "error": str(e)}',
            ["get_item:4"],
            [],
        ),
        (
            "item_id: uuid.UUID, db: AsyncSession = Depends(get_db)",
            "    return await ItemService(db).get(item_id)",
            [],
            [
                "get_item:3 has a Depends(...) default",
                "get_item:3 takes a session",
                "get_item:4 builds ItemService",
            ],
        ),
        (
            "item_id: uuid.UUID, session: SessionDep",
            "    return await items(session, item_id)",
            [],
            ["get_item:3 takes a session"],
        ),
    ],
    ids=["try-except", "depends-default", "session-alias"],
)
def test_each_endpoint_rule_reports_a_planted_violation(
    parameters: str, body: str, expected_try: list[str], expected_wiring: list[str]
) -> None:
    """A checker that never fails proves nothing: plant each mistake and see it named."""
    source = ENDPOINT.format(parameters=parameters, body=body)

    assert endpoint_try_blocks(source) == expected_try
    assert endpoint_wiring(source) == expected_wiring


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from fastapi import Depends, HTTPException\n", ["1 fastapi.HTTPException"]),
        ("from starlette import status\n", ["1 starlette.status"]),
        ("import fastapi\n", ["1 fastapi"]),
        ("from fastapi import Depends\n", []),
    ],
)
def test_the_service_rule_reports_a_planted_http_import(source: str, expected: list[str]) -> None:
    assert http_in_service(source) == expected


def untyped_parts(
    schema: dict[str, Any], components: dict[str, Any], name: str = "(body)", seen: frozenset[str] = frozenset()
) -> list[str]:
    """Names of the parts of a response schema that say nothing about their content: `{}` or a bare object."""
    if "$ref" in schema:
        model = schema["$ref"].rsplit("/", 1)[-1]
        return [] if model in seen else untyped_parts(components[model], components, model, seen | {model})
    bare_object = (schema.get("type") == "object" or "additionalProperties" in schema) and "properties" not in schema
    found = [name] if not schema or bare_object else []
    children = list(schema.get("properties", {}).items())
    children += [(name, part) for part in [*schema.get("anyOf", []), *schema.get("allOf", [])]]
    children += [(name, schema["items"])] if "items" in schema else []
    return found + [part for field, child in children for part in untyped_parts(child, components, field, seen)]


def untyped_success_responses(spec: dict[str, Any]) -> list[str]:
    """`METHOD path status: part` for every untyped part of a 2xx JSON answer under `/api/`."""
    components = spec.get("components", {}).get("schemas", {})
    return [
        f"{method.upper()} {path} {status}: {part}"
        for path, operations in spec["paths"].items()
        if path.startswith("/api/")
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.startswith("2") and "application/json" in response.get("content", {})
        for part in untyped_parts(response["content"]["application/json"]["schema"], components)
    ]


def test_every_success_response_is_a_typed_model(settings: Settings) -> None:
    """No envelope with `data: dict`: each 2xx body is the resource itself, every field of it typed."""
    envelope_app = FastAPI()

    class Envelope(BaseModel):
        success: bool
        data: dict[str, Any] | None
        error: str | None

    @envelope_app.get("/api/v1/items/{item_id}")
    async def get_item(item_id: int) -> Envelope:
        return Envelope(success=True, data={"id": item_id}, error=None)

    assert untyped_success_responses(envelope_app.openapi()) == ["GET /api/v1/items/{item_id} 200: data"]
    spec = create_app().openapi()
    assert len([path for path in spec["paths"] if path.startswith("/api/")]) >= 4  # the walk reads real routes
    assert untyped_success_responses(spec) == []
