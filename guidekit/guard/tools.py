"""Where the project's command-line tools live: the virtualenv first, then PATH."""

import shutil
import sys
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def tool_path(name: str) -> str | None:
    """The executable for a tool name, or None when the machine does not have it."""
    local = VENV_BIN / name
    if local.is_file():
        return str(local)
    return shutil.which(name)


def require_tool(name: str) -> str:
    """The executable for a tool the guard itself needs; fails loudly when missing."""
    path = tool_path(name)
    assert path, f"{name} is not installed; `uv sync` installs the project's tools"
    return path
