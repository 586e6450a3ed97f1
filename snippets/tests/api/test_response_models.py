"""Every success answer of the API is a typed model, read from the OpenAPI
document of the app.
"""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from app.core.config import Settings
from app.main import create_app


def untyped_parts(
    schema: dict[str, Any],
    components: dict[str, Any],
    name: str = "(body)",
    seen: frozenset[str] = frozenset(),
) -> list[str]:
    """Names of the parts of a response schema that say nothing about their
    content: `{}` or a bare object.
    """
    if "$ref" in schema:
        model = schema["$ref"].rsplit("/", 1)[-1]
        return (
            []
            if model in seen
            else untyped_parts(
                components[model], components, model, seen | {model}
            )
        )
    bare_object = (
        schema.get("type") == "object" or "additionalProperties" in schema
    ) and "properties" not in schema
    found = [name] if not schema or bare_object else []
    children = list(schema.get("properties", {}).items())
    children += [
        (name, part)
        for part in [*schema.get("anyOf", []), *schema.get("allOf", [])]
    ]
    children += [(name, schema["items"])] if "items" in schema else []
    return found + [
        part
        for field, child in children
        for part in untyped_parts(child, components, field, seen)
    ]


def untyped_success_responses(spec: dict[str, Any]) -> list[str]:
    """`METHOD path status: part` for every untyped part of a 2xx JSON answer
    under `/api/`.
    """
    components = spec.get("components", {}).get("schemas", {})
    return [
        f"{method.upper()} {path} {status}: {part}"
        for path, operations in spec["paths"].items()
        if path.startswith("/api/")
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.startswith("2")
        and "application/json" in response.get("content", {})
        for part in untyped_parts(
            response["content"]["application/json"]["schema"], components
        )
    ]


def test_every_success_response_is_a_typed_model(settings: Settings) -> None:
    """No envelope with `data: dict`: each 2xx body is the resource itself,
    every field of it typed.
    """
    envelope_app = FastAPI()

    class Envelope(BaseModel):
        success: bool
        data: dict[str, Any] | None
        error: str | None

    @envelope_app.get("/api/v1/items/{item_id}")
    async def get_item(item_id: int) -> Envelope:
        return Envelope(success=True, data={"id": item_id}, error=None)

    assert untyped_success_responses(envelope_app.openapi()) == [
        "GET /api/v1/items/{item_id} 200: data"
    ]
    spec = create_app().openapi()
    # the walk reads real routes
    assert (
        len([path for path in spec["paths"] if path.startswith("/api/")]) >= 4
    )
    assert untyped_success_responses(spec) == []
