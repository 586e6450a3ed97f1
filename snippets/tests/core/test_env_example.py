"""`.env.example` documents every setting, and nothing else."""

from pathlib import Path

import pytest
from dotenv import dotenv_values

from app.core.config import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"
SETTING_NAMES = {name.upper() for name in Settings.model_fields}


# --8<-- [start:test_env_example]
def test_env_example_names_every_setting_and_nothing_else() -> None:
    names = set(dotenv_values(ENV_EXAMPLE))

    assert names - SETTING_NAMES == set(), (
        "not a field of Settings: remove it, or add the field"
    )
    assert SETTING_NAMES - names == set(), (
        "a Settings field is missing from .env.example: add a safe example"
        " value"
    )


def test_env_example_loads_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTING_NAMES:
        # only the file may provide values here
        monkeypatch.delenv(name, raising=False)

    settings = Settings(_env_file=ENV_EXAMPLE)
    empty = {
        name.lower()
        for name, value in dotenv_values(ENV_EXAMPLE).items()
        if not value
    }

    # every other value came from the file
    assert settings.model_fields_set == set(Settings.model_fields) - empty
    # `NAME=` leaves an optional setting off
    assert all(getattr(settings, name) is None for name in empty)
    assert settings.environment == "local"


# --8<-- [end:test_env_example]
