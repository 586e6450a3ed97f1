"""What every checker shares: the fence as a checker receives it, the run's context, the checker's shape, its error."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from guidekit.markdown.includes import Region

Status = Literal["verified", "opted out", "failed", "pending"]


class FenceError(Exception):
    """A fence that its checker could not verify; the message names the fence and the fix."""


@dataclass
class Context:
    """What checkers need from the test run, fetched only when a fence needs it."""

    root: Path
    docs: Path
    snippets: Path
    """Where include paths are looked up (`pymdownx.snippets`' `base_path`)."""
    fixture: Callable[[str], Any]
    """`request.getfixturevalue`: the database, the service and pytest-examples on demand."""


@dataclass(frozen=True)
class Shown:
    """What a reader sees in one fence, resolved once: the text, where it is, and the region it includes."""

    page: Path
    """The page, relative to the docs directory."""
    line: int
    """The 1-based line of the opening fence on the page."""
    language: str
    text: str
    """The code as the reader sees it: the fence's body, or the included region's text."""
    title: str | None = None
    """The `title="..."` of the fence, which names the real file an inline excerpt shows."""
    markers: Mapping[str, str] = field(default_factory=dict)
    """Guard markers above the fence (`raises`)."""
    region: Region | None = None
    """For an include: the file, section and lines shown; None for inline code."""

    @property
    def where(self) -> str:
        """`page.md:line`, the way every message names a fence."""
        return f"{self.page.as_posix()}:{self.line}"

    def at(self, line_in_text: int) -> str:
        """`page.md:line` of a 1-based line of `text` (inline code: the line right under the opening fence is 1)."""
        return f"{self.page.as_posix()}:{self.line + line_in_text}"


@dataclass(frozen=True)
class Checker:
    """One checker: the kinds of fence it verifies and the one function that verifies them.

    `check` returns what it proved (the ledger's detail) or raises FenceError. A `pending`
    checker's verdict waits for a check after the last test (included Python: coverage).
    """

    kinds: frozenset[str]
    check: Callable[[Shown, Context], str]
    status: Status = "verified"
