"""One walk over every page of the nav that gathers what the per-page tests check.

Loading a page and running axe-core on it dominate the browser tests' time, so each page is
loaded once on a desktop tab and once on a phone tab, and two desktop tabs take turns: while
axe-core works in one tab's renderer, the next page loads in the other (this machine has two
cores). The tests then assert on the reports, one test per page and concern.
"""

from collections import deque
from dataclasses import dataclass, field
from importlib.resources import files

from tests.browser.site import Reader

AXE_SCRIPT = (files("axe_playwright_python") / "axe.min.js").read_text()
SERIOUS_IMPACTS = {"serious", "critical"}
# Started without waiting, collected later: the page's renderer works while Python moves on.
_START_AXE = "(options) => { window.__axeResults = axe.run(document, options); }"
_ALL_RULES = {"resultTypes": ["violations"]}
# The phone tab reads in the dark scheme: its contrast is checked there (layout rules ran on desktop).
_CONTRAST_ONLY = {"resultTypes": ["violations"], "runOnly": {"type": "rule", "values": ["color-contrast"]}}
_AXE_VIOLATIONS = """async () => (await window.__axeResults).violations.map((violation) => ({
  id: violation.id,
  impact: violation.impact,
  help: violation.help,
  nodes: violation.nodes.slice(0, 5).map((node) => ({
    target: JSON.stringify(node.target),
    why: [...node.any, ...node.all, ...node.none].map((check) => check.message).filter(Boolean).join("; "),
  })),
}))"""
# Clicks every copy button and reads the clipboard; next to it, the code as shown, read from the
# rendered block independently of the theme's copy logic: minus prompts, output lines and
# annotation markers.
_COPY_EVERY_BLOCK = """async () => {
  const shown = (code) => {
    const clone = code.cloneNode(true);
    clone.querySelectorAll(".gp, .md-annotation").forEach((element) => element.remove());
    clone.querySelectorAll('[id^="__span-"]').forEach((line) => {
      if (line.querySelector(":scope > .go")) line.remove();
    });
    return clone.textContent.trimEnd();
  };
  const blocks = [];
  for (const pre of document.querySelectorAll(".md-content .highlight > pre")) {
    const button = pre.querySelector("button[data-clipboard-target]");
    const code = pre.querySelector(":scope > code");
    const block = { language: pre.parentElement.className, shown: shown(code), copied: null };
    if (button) {
      await navigator.clipboard.writeText("");
      button.click();
      block.copied = await navigator.clipboard.readText();
    }
    blocks.push(block);
  }
  return blocks;
}"""
# Horizontal overflow of the page, and code blocks wider than their box that do not scroll.
_LAYOUT = """() => ({
  overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  unscrollableCode: Array.from(document.querySelectorAll(".md-content pre > code"))
    .filter((code) => code.scrollWidth > code.clientWidth)
    .filter((code) => !["auto", "scroll"].includes(getComputedStyle(code).overflowX))
    .map((code) => code.textContent.slice(0, 60)),
})"""


@dataclass
class CodeBlock:
    """One code block: its highlight classes, the code shown, and what its copy button copied."""

    language: str
    shown: str
    copied: str | None


@dataclass
class PageReport:
    """Everything the per-page tests check about one page of the nav."""

    source: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    serious_violations: list[str] = field(default_factory=list)
    code_blocks: list[CodeBlock] = field(default_factory=list)
    phone_overflow_px: int = 0
    phone_unscrollable_code: list[str] = field(default_factory=list)


def _serious(reader: Reader, scheme: str) -> list[str]:
    violations = reader.page.evaluate(_AXE_VIOLATIONS)
    return [
        f"{violation['id']} ({violation['impact']}, {scheme}): {violation['help']}:\n"
        + "\n".join(f"  {node['target']}: {node['why']}" for node in violation["nodes"])
        for violation in violations
        if violation["impact"] in SERIOUS_IMPACTS
    ]


def _finish(reader: Reader, report: PageReport) -> None:
    """Collect a desktop tab's results for its page: axe-core, copy buttons, what it logged."""
    report.serious_violations += _serious(reader, "light")
    report.code_blocks = [CodeBlock(**block) for block in reader.page.evaluate(_COPY_EVERY_BLOCK)]
    report.console_errors += reader.traffic.console_errors
    report.failed_requests += reader.traffic.failed_requests
    report.foreign_requests += reader.traffic.foreign_requests


def _on_phone(phone: Reader, report: PageReport) -> None:
    """Load the page on the phone tab (dark scheme): layout, contrast, and what it logged."""
    phone.open(report.source)
    phone.page.evaluate(_START_AXE, _CONTRAST_ONLY)
    layout = phone.page.evaluate(_LAYOUT)
    report.phone_overflow_px = layout["overflow"]
    report.phone_unscrollable_code = layout["unscrollableCode"]
    report.serious_violations += _serious(phone, "dark, phone")
    report.console_errors += phone.traffic.console_errors
    report.failed_requests += phone.traffic.failed_requests
    report.foreign_requests += phone.traffic.foreign_requests


def survey(sources: list[str], desktops: list[Reader], phone: Reader) -> dict[str, PageReport]:
    """Load every page on the desktop tabs in turn and on the phone tab, and report on each."""
    reports = {source: PageReport(source) for source in sources}
    free = deque(desktops)
    busy: deque[tuple[Reader, PageReport]] = deque()
    for index, source in enumerate(sources):
        if not free:
            reader, report = busy.popleft()
            _finish(reader, report)
            free.append(reader)
        reader = free.popleft()
        # The first page waits for the network to settle: the search index and its worker load then.
        reader.open(source, wait_until="networkidle" if index == 0 else "load")
        reader.page.evaluate(_START_AXE, _ALL_RULES)
        busy.append((reader, reports[source]))
        _on_phone(phone, reports[source])
    for reader, report in busy:
        _finish(reader, report)
    return reports
