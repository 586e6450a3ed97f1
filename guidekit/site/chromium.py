"""Which Chromium the browser tests and scripts drive, and how: Debian's, headless, offline."""

import os
import shutil
from pathlib import Path

# A headless Chromium that must not phone home: this machine has no network but the registries.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_BROWSER = "no Chromium found: install it with `apt-get install -y --no-install-recommends chromium`"


def chromium_executable() -> Path | None:
    """Debian's Chromium (or `$CHROMIUM`): Playwright's own browser download cannot work here."""
    configured = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return Path(configured) if configured and Path(configured).exists() else None


def in_ci() -> bool:
    """CI sets `CI=true`; there a missing browser is a failure, never a skip."""
    return os.environ.get("CI", "").lower() == "true"
