"""The Kubernetes manifest agrees with the service: probe paths exist, shutdown
timings fit together.
"""

import ipaddress
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from uvicorn.main import main as uvicorn_command

from app.core.config import Settings
from app.main import create_app

MANIFEST = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes.yaml"


@pytest.fixture(scope="module")
def pod() -> dict[str, Any]:
    deployment = yaml.safe_load(MANIFEST.read_text())
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def test_probes_call_routes_the_app_has(
    pod: dict[str, Any], settings: Settings
) -> None:
    [container] = pod["containers"]
    app = create_app()

    assert container["livenessProbe"]["httpGet"]["path"] == app.url_path_for(
        "livez"
    )
    assert container["readinessProbe"]["httpGet"]["path"] == app.url_path_for(
        "readyz"
    )
    readiness_timeout = Settings.model_fields[
        "readiness_timeout_seconds"
    ].default
    assert container["readinessProbe"]["timeoutSeconds"] > readiness_timeout


def test_shutdown_fits_in_the_grace_period(pod: dict[str, Any]) -> None:
    [container] = pod["containers"]
    program, *arguments = container["command"]
    # uvicorn's own parser: unknown options fail
    uvicorn = uvicorn_command.make_context(program, arguments)

    assert uvicorn.params["factory"] is True
    assert uvicorn.params["app"] == "app.main:create_app"
    drain = (
        container["lifecycle"]["preStop"]["sleep"]["seconds"]
        + uvicorn.params["timeout_graceful_shutdown"]
    )
    assert drain < pod["terminationGracePeriodSeconds"]


# --8<-- [start:test_forwarded_allow_ips]
async def test_the_client_address_is_taken_from_the_ingress_only(
    pod: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn, started as the manifest starts it, replaces the peer address
    for the ingress's pods only.
    """
    [container] = pod["containers"]
    trusted = {
        variable["name"]: variable["value"] for variable in container["env"]
    }["FORWARDED_ALLOW_IPS"]
    networks = [
        ipaddress.ip_network(network.strip()) for network in trusted.split(",")
    ]
    # never "*", never a public range
    assert all(network.is_private for network in networks)
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", trusted)
    program, *arguments = container["command"]
    # uvicorn's default today, stated so a new default cannot drop it
    assert "--proxy-headers" in arguments
    options = uvicorn_command.make_context(program, arguments).params
    clients: list[str] = []

    async def app(
        scope: dict[str, Any],
        receive: Any,  # noqa: ANN401 (ASGI)
        send: Any,  # noqa: ANN401 (ASGI)
    ) -> None:
        clients.append(scope["client"][0])

    config = uvicorn.Config(
        app,
        proxy_headers=options["proxy_headers"],
        forwarded_allow_ips=options["forwarded_allow_ips"],
        log_config=None,
    )
    config.load()
    ingress_pod, elsewhere = str(next(networks[0].hosts())), "198.51.100.20"
    for peer in (ingress_pod, elsewhere):
        scope = {
            "type": "http",
            "scheme": "http",
            "client": (peer, 40000),
            "headers": [(b"x-forwarded-for", b"203.0.113.7")],
        }
        await config.loaded_app(scope, None, None)

    # the real client; a spoofed header from elsewhere is ignored
    assert clients == [
        "203.0.113.7",
        elsewhere,
    ]


# --8<-- [end:test_forwarded_allow_ips]
