"""The OpenAPI document as a contract clients generate from: stable operation
ids, errors as problems.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.api.problem_details import PROBLEM_JSON


# --8<-- [start:operation_id]
def operation_id(route: APIRoute) -> str:
    """`{tag}-{function name}`, as `messaging-create_message`: the method name
    in a generated client.

    FastAPI's default appends the path and the method
    (`create_message_api_v1_messages_post`), so a new prefix or version would
    rename every method of every client generated from the document.
    """
    return "-".join(str(part) for part in [*route.tags[:1], route.name])


# --8<-- [end:operation_id]


# --8<-- [start:problem_media_type]
PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


def file_problems_under_their_media_type(
    openapi: dict[str, Any],
) -> dict[str, Any]:
    """Move every response's `Problem` schema from `application/json` to
    `application/problem+json`.

    FastAPI files the `model` of a `responses=` entry under the route's own
    media type, but the problem handlers send `application/problem+json`: a
    client that picks its decoder by content type would find no schema for any
    error.
    """
    for operations in openapi["paths"].values():
        for operation in operations.values():
            for response in operation["responses"].values():
                content = response.get("content", {})
                if (
                    content.get("application/json", {}).get("schema")
                    == PROBLEM_SCHEMA
                ):
                    content[PROBLEM_JSON] = content.pop("application/json")
    return openapi


class ServiceAPI(FastAPI):
    """FastAPI whose OpenAPI document files problem responses under their own
    media type.
    """

    def openapi(self) -> dict[str, Any]:
        """The document FastAPI builds (once, then cached), with the problems
        moved; moving is idempotent.
        """
        return file_problems_under_their_media_type(super().openapi())


# --8<-- [end:problem_media_type]


# --8<-- [start:partial_update_schema]
def partial_update_schema(
    *never_null: str, at_least_one: bool
) -> Callable[[dict[str, Any]], None]:
    """A PATCH model's `json_schema_extra`: no `null` for `never_null`;
    `minProperties: 1` if `at_least_one`.

    The model's validators refuse those nulls (and `{}`); the document must
    refuse them too, or a client that follows it is answered 422. Editing the
    schema, rather than typing the field without `None`, keeps the field
    `Optional` for pydantic, so its errors stay on `body.<field>`.
    """

    def edit(schema: dict[str, Any]) -> None:
        for name in never_null:
            field = schema["properties"][name]
            field.update(
                next(
                    branch
                    for branch in field.pop("anyOf")
                    if branch != {"type": "null"}
                )
            )
            field.pop("default")  # `null`, which the document no longer offers
        if at_least_one:
            schema["minProperties"] = 1

    return edit


# --8<-- [end:partial_update_schema]
