"""Schemathesis, a client nobody here wrote, fuzzes the running service from
its own OpenAPI document.
"""

import asyncio
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.strategies import SearchStrategy
from redis.asyncio import Redis
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings

EXAMPLES_PER_OPERATION = 15
"""Cases generated per operation: enough to find what is below, few enough to
run in seconds.
"""


# --8<-- [start:running_service]
@pytest_asyncio.fixture
async def running_service(
    settings: Settings,
    redis: Redis,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[str]:
    """The app as production runs it: uvicorn, `--factory`, its own pools, on a
    free loopback port.

    Its writes are committed, so the tables it may fill are emptied afterwards.
    """
    # Random batches would spend the message limit in a few cases and leave
    # only 429s to test.
    monkeypatch.setattr(settings, "message_rate_limit_per_minute", 1_000_000)
    config = uvicorn.Config(
        "app.main:create_app",
        factory=True,
        host="127.0.0.1",
        port=0,
        log_config=None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        await asyncio.sleep(0.01)
    [socket] = server.servers[0].sockets
    port = socket.getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "TRUNCATE webhook_deliveries, webhooks, message_deliveries,"
                " messages, idempotency_keys"
            )
        )


# --8<-- [end:running_service]


# --8<-- [start:test_schemathesis]
def test_schemathesis_finds_no_server_error_and_no_response_off_the_schema(
    running_service: str, make_token: Callable[..., str]
) -> None:
    """Valid and invalid cases: no 5xx; status code, content type, headers and
    body as the document says.
    """
    schema = schemathesis.openapi.from_url(f"{running_service}/openapi.json")
    # Allowed: an unknown query parameter is ignored, as FastAPI does and
    # OpenAPI permits; Schemathesis would count every `?utm_source=...`
    # answered with a 200 as a failure.
    schema.config.generation.update(allow_extra_parameters=False)
    # so the cases reach past the 401
    signed_in = {"Authorization": f"Bearer {make_token()}"}
    statuses: Counter[int] = Counter()

    def fuzz(
        strategy: SearchStrategy[schemathesis.Case[Any]], valid: bool
    ) -> None:
        @given(case=strategy)
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            # the same cases on every run: a failure here is a regression, not
            # luck
            derandomize=True,
            # no .hypothesis/ folder, no replay of earlier runs' failures
            database=None,
            # a slow first request (pool start-up) is not a failure
            deadline=None,
            # no shrinking: the first failure is reported as is
            phases=[
                Phase.explicit,
                Phase.generate,
            ],
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.filter_too_much,
            ],
        )
        def run(case: schemathesis.Case[Any]) -> None:
            # Allowed: a `cursor` is opaque, so no schema can tell a string
            # this API issued from any other; a string it did not issue is a
            # 422 by design (`test_list_rejects_a_forged_cursor`).
            opaque: list[CheckFunction] = (
                [positive_data_acceptance]
                if "cursor" in (case.query or {})
                else []
            )
            # A valid Idempotency-Key is used once: no schema can say a key is
            # still unused, and a key reused with another body is a 422 by
            # design (`test_the_same_key_with_another_body_is_a_422_problem`).
            if valid and case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = uuid.uuid4().hex
            # An update names the version it changes: without `If-Match` it is
            # a documented 428
            # (`test_an_update_without_if_match_is_428_and_changes_nothing`);
            # `*` is any version. Invalid cases get it too: the If-Match
            # dependency runs before the path and body are validated, so
            # without it an invalid case would be refused with 428 before its
            # invalid input is looked at.
            versioned = case.method == "PATCH" and case.path.startswith(
                "/api/v1/messages/"
            )
            headers = signed_in | ({"If-Match": "*"} if versioned else {})
            response = case.call_and_validate(
                headers=headers, excluded_checks=opaque, timeout=10
            )
            statuses[response.status_code] += 1

        run()

    started = time.monotonic()
    for result in schema.get_all_operations():
        # the document loads: every operation is well formed
        assert isinstance(result, Ok), result
        operation = result.ok()
        # valid input: accepted, or refused as documented
        fuzz(operation.as_strategy(GenerationMode.POSITIVE), valid=True)
        # /livez takes no input to spoil
        if operation.path_parameters or operation.query or operation.body:
            # invalid input: refused, as documented
            fuzz(operation.as_strategy(GenerationMode.NEGATIVE), valid=False)

    cases = statuses.total()
    # every operation ran (some give fewer distinct cases)
    assert cases >= 2 * 11 * EXAMPLES_PER_OPERATION // 2
    # the cases got past the token and the validation
    assert {200, 201, 404, 409, 422} <= set(statuses)
    print(
        f"schemathesis: {cases} cases in {time.monotonic() - started:.1f} s:"
        f" {sorted(statuses.items())}"
    )


# --8<-- [end:test_schemathesis]
