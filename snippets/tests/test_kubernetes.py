"""The Kubernetes manifest agrees with the service: probe paths exist, shutdown timings fit together."""

from pathlib import Path
from typing import Any

import pytest
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


def test_probes_call_routes_the_app_has(pod: dict[str, Any], settings: Settings) -> None:
    [container] = pod["containers"]
    app = create_app()

    assert container["livenessProbe"]["httpGet"]["path"] == app.url_path_for("livez")
    assert container["readinessProbe"]["httpGet"]["path"] == app.url_path_for("readyz")
    readiness_timeout = Settings.model_fields["readiness_timeout_seconds"].default
    assert container["readinessProbe"]["timeoutSeconds"] > readiness_timeout


def test_shutdown_fits_in_the_grace_period(pod: dict[str, Any]) -> None:
    [container] = pod["containers"]
    program, *arguments = container["command"]
    uvicorn = uvicorn_command.make_context(program, arguments)  # uvicorn's own parser: unknown options fail

    assert uvicorn.params["factory"] is True
    assert uvicorn.params["app"] == "app.main:create_app"
    drain = container["lifecycle"]["preStop"]["sleep"]["seconds"] + uvicorn.params["timeout_graceful_shutdown"]
    assert drain < pod["terminationGracePeriodSeconds"]
