"""Hooks for every test run of this repository (see `guidekit/pytest_plugin.py`)."""

pytest_plugins = [
    "guidekit.pytest_plugin",
    # The service's PostgreSQL and Redis fixtures, which the fence guard's SQL checks use too
    # (`snippets/tests/servers.py`; `snippets/` is on the path: the service is installed editable).
    "tests.servers",
    # The site records the PostgreSQL version the run used, for the Stack page.
    "guidekit.tested_with",
]
