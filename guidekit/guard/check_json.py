"""JSON bodies and HTTP exchanges, checked against the service's own models and routes.

A JSON block must validate against a request or response model of the service (every
Pydantic model in `app`, problem details included) with exactly the keys it shows, or
against the JSON the service really serves (`/openapi.json`). An `http` block's request
line must name a route the service has, with the method it accepts.
"""

import importlib
import json
import pkgutil
import re
from functools import cache

from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings
from sqlmodel import SQLModel

import app
from guidekit.guard.check_config import is_subset
from guidekit.guard.errors import FenceError
from guidekit.markdown.fences import Fence


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


def check_json(fence: Fence, text: str, service: FastAPI) -> str:
    """A JSON block parses and is a body the service accepts or returns."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FenceError(f"{fence.where}: not valid JSON: {error}") from None
    return _check_body(fence, data, service)


def _check_body(fence: Fence, data: object, service: FastAPI) -> str:
    model = matching_model(data)
    if model:
        return f"validates as {model}"
    if isinstance(data, dict) and data.get("openapi") and is_subset(data, service.openapi()):
        return "excerpt of the service's OpenAPI document"
    raise FenceError(
        f"{fence.where}: this JSON matches no request or response model of the service (app.*): "
        "show a body the service really accepts or returns, with the same keys"
    )


def check_http(fence: Fence, service: FastAPI) -> str:
    """An HTTP request names a real route and method; a JSON body is one the service takes."""
    head, _, body = fence.body.partition("\n\n")
    first = head.splitlines()[0].strip() if head.strip() else ""
    request = re.fullmatch(r"(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+)(?: HTTP/[\d.]+)?", first)
    response = re.fullmatch(r"HTTP/[\d.]+ (\d{3})(?: .*)?", first)
    if request:
        method, target = request[1], request[2].split("?")[0]
        operations = service.openapi()["paths"]
        routes = [path for path in operations if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", path), target)]
        if not routes:
            raise FenceError(f"{fence.where}: the service has no route {target}")
        if not any(method.lower() in operations[path] for path in routes):
            raise FenceError(f"{fence.where}: {target} does not accept {method}")
        verified = f"route {method} {routes[0]} exists"
    elif response:
        verified = f"response {response[1]}"
    else:
        raise FenceError(f"{fence.where}: an http block must start with a request line or a status line")
    if body.strip():
        try:
            data = json.loads(body)
        except json.JSONDecodeError as error:
            raise FenceError(f"{fence.where}: the body is not valid JSON: {error}") from None
        verified += "; " + _check_body(fence, data, service)
    return verified
