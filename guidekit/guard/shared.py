"""Helpers more than one checker uses: excerpts of real data, the service's routes and bodies, tests of a file.

Checkers import this module, never each other.
"""

import importlib
import json
import pkgutil
import re
from functools import cache
from pathlib import Path

from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings
from sqlmodel import SQLModel

import app
from guidekit.guard.checker import FenceError


def is_subset(shown: object, real: object) -> bool:
    """Whether every key shown is in the real data with the same value; lists must be shown whole."""
    if isinstance(shown, dict):
        return isinstance(real, dict) and all(
            key in real and is_subset(value, real[key]) for key, value in shown.items()
        )
    return bool(shown == real)


def tests_reading(path: Path, snippets: Path) -> list[str]:
    """The service tests that name a file (by its name), i.e. that read and check it."""
    return sorted(
        test.relative_to(snippets).as_posix()
        for test in (snippets / "tests").rglob("*.py")
        if path.name in test.read_text(encoding="utf-8")
    )


@cache
def service_models() -> tuple[type[BaseModel], ...]:
    """Every Pydantic model of the service that travels over HTTP (not settings, not tables)."""
    for module in pkgutil.walk_packages(app.__path__, "app."):
        importlib.import_module(module.name)
    found: dict[str, type[BaseModel]] = {}
    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        is_table = issubclass(model, SQLModel) and bool(getattr(model, "__table__", None) is not None)
        if model.__module__.startswith("app.") and not issubclass(model, BaseSettings) and not is_table:
            found[f"{model.__module__}.{model.__qualname__}"] = model
    return tuple(found[name] for name in sorted(found))


def shape(value: object) -> object:
    """The key structure of a JSON value: dict keys and nesting, not the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def matching_model(data: object) -> str | None:
    """The first service model that validates `data` and dumps back the same keys."""
    for model in service_models():
        try:
            parsed = model.model_validate(data)
        except ValidationError:
            continue
        dumped = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
        if shape(dumped) == shape(data):
            return f"{model.__module__}.{model.__qualname__}"
    return None


def check_body(data: object, where: str, service: FastAPI) -> str:
    """A JSON value is a body the service accepts or returns, or an excerpt of its OpenAPI document."""
    model = matching_model(data)
    if model:
        return f"validates as {model}"
    if isinstance(data, dict) and data.get("openapi") and is_subset(data, service.openapi()):
        return "excerpt of the service's OpenAPI document"
    raise FenceError(
        f"{where}: this JSON matches no request or response model of the service (app.*): "
        "show a body the service really accepts or returns, with the same keys"
    )


def check_request(method: str, target: str, body: str | None, where: str, service: FastAPI) -> str:
    """A request names a route the service has, with a method it accepts, and a JSON body it takes."""
    path = target.split("?")[0]
    operations = service.openapi()["paths"]
    routes = [route for route in operations if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", route), path)]
    if not routes:
        raise FenceError(f"{where}: the service has no route {path}")
    if not any(method.lower() in operations[route] for route in routes):
        raise FenceError(f"{where}: {path} does not accept {method}")
    verified = f"route {method} {routes[0]} exists"
    if body and body.strip():
        try:
            data = json.loads(body)
        except json.JSONDecodeError as error:
            raise FenceError(f"{where}: the body is not valid JSON: {error}") from None
        verified += "; " + check_body(data, where, service)
    return verified
