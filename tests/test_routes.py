"""The service's routes read from its code (guidekit/site/routes.py) are the routes the app serves."""

from pathlib import Path

import pytest

from guidekit.site.routes import RouteReadError, endpoints
from guidekit.site.search_generated import route_operations


def test_the_routes_read_from_the_code_are_the_routes_of_the_openapi_document() -> None:
    """Every path of the built app's OpenAPI document, with its endpoints' methods and names, and nothing else."""
    read: dict[str, set[tuple[str, str]]] = {}
    for endpoint in endpoints():
        for path in endpoint.full_paths:
            read.setdefault(path, set()).add((endpoint.method, endpoint.function))
    assert read == route_operations()


def plant(app: Path, files: dict[str, str]) -> Path:
    for name, code in files.items():
        (app / name).parent.mkdir(parents=True, exist_ok=True)
        (app / name).write_text(code, encoding="utf-8")
    return app


def test_prefixes_are_joined_from_the_app_down_through_imported_routers(tmp_path: Path) -> None:
    app = plant(
        tmp_path / "app",
        {
            "service_api.py": "import fastapi\nclass Base(fastapi.FastAPI): ...\nclass ServiceAPI(Base): ...\n",
            "main.py": (
                "from app.api import root\n"
                "from app.service_api import ServiceAPI\n"
                "def create():\n"
                "    app = ServiceAPI()\n"
                "    app.include_router(root, prefix='/v2')\n"
                "    @app.get('/health')\n"
                "    def health(): ...\n"
            ),
            "api/__init__.py": (
                "from fastapi import APIRouter\n"
                "from .items import router as items_router\n"
                "root: APIRouter = APIRouter(prefix='/api')\n"
                "root.include_router(items_router, prefix='/shop')\n"
            ),
            "api/items.py": (
                "import fastapi\n"
                "router = fastapi.APIRouter(prefix='/items')\n"
                "@router.get('')\nasync def list_items(): ...\n"
                "@router.delete('/{item_id}')\n@traced\ndef delete_item(): ...\n"
                "@router.api_route('/sync', methods=['POST', 'PUT'])\ndef sync(): ...\n"
                "@router.get(path='/count')\ndef count(): ...\n"
            ),
            "unused.py": "from fastapi import APIRouter\nrouter = APIRouter()\n@router.get('/x')\ndef never(): ...\n",
        },
    )
    found = {(endpoint.function, endpoint.method, endpoint.path): endpoint.full_paths for endpoint in endpoints(app)}
    assert found == {
        ("health", "get", "/health"): ("/health",),
        ("list_items", "get", ""): ("/v2/api/shop/items",),
        ("delete_item", "delete", "/{item_id}"): ("/v2/api/shop/items/{item_id}",),
        ("sync", "post", "/sync"): ("/v2/api/shop/items/sync",),
        ("sync", "put", "/sync"): ("/v2/api/shop/items/sync",),
        ("count", "get", "/count"): ("/v2/api/shop/items/count",),
        # a router that nothing includes serves nothing
        ("never", "get", "/x"): (),
    }
    lines = {endpoint.function: endpoint.line for endpoint in endpoints(app)}
    assert lines == {"health": 6, "list_items": 3, "delete_item": 5, "sync": 8, "count": 10, "never": 3}


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("router = APIRouter(prefix=PREFIX)\n", "api.py:2: a router prefix must be a literal string"),
        ("router = APIRouter()\n@router.get(PATH)\ndef f(): ...\n", "api.py:3: a route path must be a literal string"),
        (
            "router = APIRouter()\nrouter.include_router(router)\n@router.get('')\ndef f(): ...\n",
            r"api.py:3: router app\.api\.router is included under itself",
        ),
        ("router = APIRouter()\ndef make():\n    router = APIRouter()\n", "api.py:4: `router` is a second router"),
        ("@app.router.get('/x')\ndef f(): ...\n", "api.py:2: a route decorator must be on a name"),
        (
            "router = APIRouter()\n@router.api_route('/x', methods=VERBS)\ndef f(): ...\n",
            "api.py:3: api_route's methods",
        ),
        ("router = APIRouter()\nrouter.add_api_route('/x', f)\n", "api.py:3: add_api_route is not read"),
        ("router = APIRouter()\nthing.include_router(router)\n", r"api.py:3: thing.include_router\(router\) is not"),
        ("router = APIRouter()\napp.include_router(api.router)\n", "api.py:3: include_router must be called on a name"),
        ("@cache.get('key')\ndef cached(): ...\n", "api.py:2: @cache.get is on neither a router nor the app"),
    ],
)
def test_code_the_reader_cannot_follow_is_refused_with_its_line(tmp_path: Path, code: str, error: str) -> None:
    # the import is line 1: the code starts on line 2
    app = plant(tmp_path / "app", {"api.py": "from fastapi import APIRouter\n" + code})
    with pytest.raises(RouteReadError, match=error):
        endpoints(app)
