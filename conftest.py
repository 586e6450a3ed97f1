"""Plugins of every test run of this repository.

`guidekit.pytest_plugin` (time limits, the janitor, `--page`, the run order) is loaded earlier, by
`-p` in pyproject.toml's addopts, so that `--page` is known when the command line is first read.
"""

pytest_plugins = [
    # The service's PostgreSQL and Redis fixtures, which the fence guard's SQL checks use too
    # (`snippets/tests/servers.py`; `snippets/` is on the path: the service is installed editable).
    "tests.servers",
    # The site records the PostgreSQL version the run used, for the Stack page.
    "guidekit.tested_with",
    # A run that verifies pages (the whole suite, or `--page`) enters the record with its outcome.
    "guidekit.verification",
]
