"""What the guard found and proved, fence by fence, and the totals it prints."""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from guidekit.guard.checker import Status
from guidekit.markdown.includes import Region


@dataclass
class Entry:
    """The outcome for one fence."""

    where: str
    kind: str
    status: Status
    detail: str


@dataclass
class Ledger:
    """Outcomes of every fence checked in this run."""

    entries: dict[str, Entry] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    """Time the guard spent, by part: fence checks, self-tests, final checks."""
    notes: list[str] = field(default_factory=list)
    """Run-level messages: checks skipped in a partial run, problems found after the last test."""

    def record(self, where: str, kind: str, status: Status, detail: str) -> None:
        """Set (or replace) the outcome for one fence."""
        self.entries[where] = Entry(where, kind, status, detail)

    def totals(self) -> dict[str, Counter[str]]:
        """Per kind: how many found, verified, opted out, failed, pending."""
        totals: dict[str, Counter[str]] = {}
        for entry in self.entries.values():
            counter = totals.setdefault(entry.kind, Counter())
            counter["found"] += 1
            counter[entry.status] += 1
        return dict(sorted(totals.items()))

    def summary(self) -> list[str]:
        """Lines for the terminal: a table by kind, the share verified, every opt-out and its reason."""
        if not self.entries:
            return list(self.notes)
        totals = self.totals()
        lines = [f"{'kind':<20}{'found':>7}{'verified':>10}{'opted out':>11}{'failed':>8}{'pending':>9}"]
        for kind, counter in totals.items():
            lines.append(
                f"{kind:<20}{counter['found']:>7}{counter['verified']:>10}{counter['opted out']:>11}"
                f"{counter['failed']:>8}{counter['pending']:>9}"
            )
        everything = sum(totals.values(), Counter())
        lines.append(
            f"{'all':<20}{everything['found']:>7}{everything['verified']:>10}{everything['opted out']:>11}"
            f"{everything['failed']:>8}{everything['pending']:>9}"
        )
        lines.append(f"verified: {self.verified_share():.1%} of {everything['found']} fences")
        lines.extend(
            f"opted out: {entry.where} ({entry.kind}): {entry.detail}"
            for entry in self.entries.values()
            if entry.status == "opted out"
        )
        if self.seconds:
            parts = ", ".join(f"{part} {seconds:.1f} s" for part, seconds in self.seconds.items())
            lines.append(f"guard time: {sum(self.seconds.values()):.1f} s ({parts})")
        lines.extend(self.notes)
        return lines

    def export(self) -> list[list[str]]:
        """The entries as plain lists, for a pytest-xdist worker to hand to the controller."""
        return [[entry.where, entry.kind, entry.status, entry.detail] for entry in self.entries.values()]

    def merge(self, exported: list[list[str]], notes: list[str]) -> None:
        """Add a worker's entries (from `export`) and notes to this ledger."""
        for where, kind, status, detail in exported:
            self.record(where, kind, status, detail)  # type: ignore[arg-type]
        self.notes.extend(note for note in notes if note not in self.notes)

    def verified_share(self) -> float:
        """Verified fences over all fences found."""
        verified = sum(1 for entry in self.entries.values() if entry.status == "verified")
        return verified / len(self.entries) if self.entries else 1.0


LEDGER = Ledger()
"""The run's one ledger: the guard's tests write it, the terminal summary reads it."""

INCLUDED: dict[str, tuple[Region, ...]] = {}
"""Python include regions waiting for the run's coverage, by the fence that shows them."""


def export_included() -> dict[str, list[list[object]]]:
    """INCLUDED as plain data, for a pytest-xdist worker to hand to the controller."""
    return {
        where: [[str(region.path), region.section, list(region.lines), region.text] for region in regions]
        for where, regions in INCLUDED.items()
    }


def merge_included(exported: dict[str, list[list[object]]]) -> None:
    """Add a worker's pending includes (from `export_included`) to INCLUDED."""
    for where, regions in exported.items():
        INCLUDED[where] = tuple(
            Region(Path(str(path)), section if isinstance(section, str) else None, tuple(lines), str(text))  # type: ignore[arg-type]
            for path, section, lines, text in regions
        )
