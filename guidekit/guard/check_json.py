"""JSON bodies, checked against the service's own models.

A JSON block must validate against a request or response model of the service (every
Pydantic model in `app`, problem details included) with exactly the keys it shows, or be an
excerpt of the JSON the service really serves (`/openapi.json`).
"""

import json

from fastapi import FastAPI

from guidekit.guard.checker import Checker, Context, FenceError, Shown
from guidekit.guard.shared import check_body


def check(shown: Shown, context: Context) -> str:
    """A JSON block parses and is a body the service accepts or returns."""
    try:
        data = json.loads(shown.text)
    except json.JSONDecodeError as error:
        raise FenceError(f"{shown.where}: not valid JSON: {error}") from None
    service: FastAPI = context.fixture("guard_service")
    return check_body(data, shown.where, service)


CHECKER = Checker(frozenset({"json"}), check)
