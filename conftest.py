"""Hooks for every test run of this repository (see `guidekit/pytest_plugin.py`)."""

pytest_plugins = ["guidekit.pytest_plugin"]
