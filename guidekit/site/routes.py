"""The reference service's routes as its code declares them, read with `ast` (the app is not imported).

An endpoint is a function under a `@<router>.<method>("path")` (or `.api_route("path",
methods=[...])`) decorator in `snippets/app`. Its full path joins the prefixes on the way from the
app to its router: each `include_router(router, prefix=...)` call and each
`APIRouter(prefix=...)`, followed through `from ... import ... as ...` (relative imports too). The
app is a variable assigned a `FastAPI(...)`, or an instance of a class of the tree that subclasses
`FastAPI`; a router that nothing includes serves nothing, so its endpoints have no full path.

What it cannot read, it refuses with the file and line: a prefix, a path or a list of methods that
is not literal, a router passed as anything but a name, two routers of one name in a module, an
`include_router` or a route decorator on anything but a name of a router or the app,
`add_api_route`, a router included under itself. It does not follow the order
of the calls (FastAPI copies a router's routes when it is included) or `app.mount`;
tests/test_routes.py compares the result with the OpenAPI document of the built app. The search
index adds the full paths to the sections that show the decorators (guidekit/site/search_index.py).
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeGuard

from guidekit.paths import SNIPPETS

METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace"})
"""The `APIRouter` methods that declare a route of one HTTP method."""

RouterKey = tuple[str, str]
"""A router, or the app: the module that defines it and its variable name there."""


@dataclass(frozen=True)
class Endpoint:
    """One route's function, where its decorator is, and the paths the app serves it at."""

    function: str
    method: str
    path: str
    """As its decorator writes it, relative to its router."""
    file: Path
    line: int
    """The decorator's line."""
    full_paths: tuple[str, ...]


class RouteReadError(ValueError):
    """Code the reader cannot follow: the message names the file, the line and what to write instead."""


@dataclass
class _Declarations:
    """What the modules declare: routers, apps, imported names, inclusions and decorated functions."""

    routers: dict[RouterKey, str] = field(default_factory=dict)
    """Each router's own prefix."""
    apps: set[RouterKey] = field(default_factory=set)
    aliases: dict[RouterKey, RouterKey] = field(default_factory=dict)
    """(module, local name) -> (module it comes from, its name there)."""
    includes: list[tuple[str, str, str, str, Path, int]] = field(default_factory=list)
    """(module, who includes, the router included, the prefix given, file, line)."""
    decorated: list[tuple[str, str, Endpoint]] = field(default_factory=list)
    """(module, the router or app that declares it, the endpoint without its full paths)."""


def _module_name(file: Path, root: Path) -> tuple[str, bool]:
    """`app.api.messaging.points` for `<root>/app/api/messaging/points.py`, and whether it is a package."""
    parts = file.relative_to(root).with_suffix("").parts
    package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if package else parts), package


def _imported_module(module: str, package: bool, node: ast.ImportFrom) -> str:
    """The absolute name of the module a `from ... import` reads from."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _string(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def _literal(node: ast.expr | None, what: str, file: Path, line: int) -> str:
    value = _string(node)
    if value is None:
        raise RouteReadError(f"{file}:{line}: {what} must be a literal string to be read")
    return value


def _prefix(call: ast.Call, file: Path) -> str:
    """The `prefix=` of an `APIRouter(...)` or `include_router(...)` call; none is `""`."""
    given = _keyword(call, "prefix")
    return "" if given is None else _literal(given, "a router prefix", file, call.lineno)


def _called(node: ast.expr | None, names: set[str]) -> TypeGuard[ast.Call]:
    """Whether `node` calls one of `names` (`APIRouter(...)`, `fastapi.APIRouter(...)`)."""
    function = node.func if isinstance(node, ast.Call) else None
    return (isinstance(function, ast.Name) and function.id in names) or (
        isinstance(function, ast.Attribute) and function.attr in names
    )


def _assignments(tree: ast.Module) -> Iterator[tuple[str, ast.expr]]:
    """Each `name = value` and `name: T = value` anywhere in a module (`app = FastAPI()` is in a function)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            yield from ((target.id, node.value) for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            yield node.target.id, node.value


def _app_classes(trees: dict[str, ast.Module]) -> set[str]:
    """`FastAPI` and the names of the tree's classes that subclass it, at any depth."""
    classes = {"FastAPI"}
    bases = {
        node.name: {
            base.id if isinstance(base, ast.Name) else base.attr
            for base in node.bases
            if isinstance(base, ast.Name | ast.Attribute)
        }
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }
    while grown := {name for name, parents in bases.items() if parents & classes} - classes:
        classes |= grown
    return classes


def _route_calls(decorator: ast.expr, file: Path) -> Iterator[tuple[str, str, ast.Call]]:
    """(who declares it, method) for a route decorator: `@router.get(...)`, `@router.api_route(..., methods=[...])`."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
        return
    owner = decorator.func.value
    if decorator.func.attr in METHODS:
        methods = [decorator.func.attr]
    elif decorator.func.attr == "api_route":
        listed = _keyword(decorator, "methods")
        if listed is None:
            methods = ["get"]  # FastAPI's default
        elif isinstance(listed, ast.List | ast.Tuple) and all(_string(element) for element in listed.elts):
            methods = [str(_string(element)).lower() for element in listed.elts]
        else:
            raise RouteReadError(f"{file}:{decorator.lineno}: api_route's methods must be a literal list of strings")
    else:
        return
    if not isinstance(owner, ast.Name):
        raise RouteReadError(f"{file}:{decorator.lineno}: a route decorator must be on a name (`@router.get`)")
    for method in methods:
        yield owner.id, method, decorator


def _declarations(app: Path) -> _Declarations:
    found = _Declarations()
    root = app.parent
    files = {_module_name(file, root): file for file in sorted(app.rglob("*.py"))}
    trees = {
        module: ast.parse(file.read_text(encoding="utf-8"), filename=str(file)) for (module, _), file in files.items()
    }
    app_classes = _app_classes(trees)
    for (module, package), file in files.items():
        tree = trees[module]
        for name, value in _assignments(tree):
            if _called(value, {"APIRouter"}):
                if (module, name) in found.routers:
                    raise RouteReadError(f"{file}:{value.lineno}: `{name}` is a second router of that name here")
                found.routers[(module, name)] = _prefix(value, file)
            elif _called(value, app_classes):
                found.apps.add((module, name))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _imported_module(module, package, node)
                for alias in node.names:
                    found.aliases[(module, alias.asname or alias.name)] = (source, alias.name)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_api_route"
            ):
                raise RouteReadError(
                    f"{file}:{node.lineno}: add_api_route is not read; declare the route with a decorator"
                )
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "include_router"
            ):
                included = node.args[0] if node.args else _keyword(node, "router")
                if not (isinstance(node.func.value, ast.Name) and isinstance(included, ast.Name)):
                    raise RouteReadError(f"{file}:{node.lineno}: include_router must be called on a name with a name")
                found.includes.append((module, node.func.value.id, included.id, _prefix(node, file), file, node.lineno))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for decorator in node.decorator_list:
                    for owner, method, call in _route_calls(decorator, file):
                        path = _literal(
                            call.args[0] if call.args else _keyword(call, "path"), "a route path", file, call.lineno
                        )
                        endpoint = Endpoint(node.name, method, path, file, call.lineno, ())
                        found.decorated.append((module, owner, endpoint))
    return found


def endpoints(app: Path = SNIPPETS / "app") -> list[Endpoint]:
    """Every endpoint under `app` (the `app` package folder), in file and line order."""
    found = _declarations(app)

    def declared(module: str, name: str) -> RouterKey | None:
        """The router or app a name stands for, through imports; None if neither."""
        seen = set()
        while (module, name) not in found.routers and (module, name) not in found.apps:
            if (module, name) in seen or (module, name) not in found.aliases:
                return None
            seen.add((module, name))
            module, name = found.aliases[(module, name)]
        return (module, name)

    parents: dict[RouterKey, list[tuple[RouterKey, str, str]]] = {}
    for module, includer, included, prefix, file, line in found.includes:
        parent, child = declared(module, includer), declared(module, included)
        if parent is None or child is None or child in found.apps:
            raise RouteReadError(
                f"{file}:{line}: {includer}.include_router({included}) is not a router of a router or the app"
            )
        parents.setdefault(child, []).append((parent, prefix, f"{file}:{line}"))

    def prefixes(key: RouterKey, seen: frozenset[RouterKey] = frozenset()) -> Iterator[str]:
        """The prefixes the app serves a router's routes under (`""` for the app itself)."""
        if key in found.apps:
            yield ""
            return
        for parent, given, where in parents.get(key, []):
            if parent in seen | {key}:
                raise RouteReadError(f"{where}: router {key[0]}.{key[1]} is included under itself")
            for outer in prefixes(parent, seen | {key}):
                yield outer + given + found.routers[key]

    result = []
    for module, owner, endpoint in found.decorated:
        key = declared(module, owner)
        if key is None:
            raise RouteReadError(
                f"{endpoint.file}:{endpoint.line}: @{owner}.{endpoint.method} is on neither a router nor the app"
            )
        full = tuple(dict.fromkeys(prefix + endpoint.path for prefix in prefixes(key)))
        result.append(replace(endpoint, full_paths=full))
    return result
