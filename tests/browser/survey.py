"""One walk over every page of the nav that gathers what the per-page tests check.

Loading a page and running axe-core on it dominate the browser tests' time, so each page is
loaded once, and two tabs take turns: while axe-core works in one tab's renderer, the next page
loads in the other (this machine has two cores). On each page: axe-core in the light scheme
(every rule), then contrast again in the dark scheme, every copy button, and the layout at a
phone's width. The tests then assert on the reports, one test per page and concern.
"""

from collections import deque
from dataclasses import dataclass, field
from importlib.resources import files

from playwright.sync_api import ViewportSize

from tests.browser.site import Reader

AXE_SCRIPT = (files("axe_playwright_python") / "axe.min.js").read_text()
SERIOUS_IMPACTS = {"serious", "critical"}
PHONE: ViewportSize = {"width": 375, "height": 740}
# The rules of WCAG 2.2 level A and AA (axe-core's best-practice rules rarely rate anything
# serious). axe-core's time grows with the number of elements, and highlighted code is
# thousands of token spans. A token's colour depends only on its class, so one span of each class stays and the
# others are unwrapped into plain text before axe-core runs (the copy buttons were checked on
# the untouched page first; the tab moves on to another page afterwards). The dark scheme is
# switched on the way the palette toggle does it (the palette test checks the toggle itself),
# transitions off so no colour is read mid-fade. The site's chrome (header, tabs, navigation,
# footer) comes from one template on every page, so the first page checks the whole document
# and the others their article.
# Deferred with setTimeout, so the call returns at once and the next page loads in the other tab.
_START_AXE = """(firstPage) => {
  const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
  const seen = new Set();
  for (const span of document.querySelectorAll(".highlight code span")) {
    if (span.closest(".md-annotation")) continue;
    if (span.className && !seen.has(span.className)) {
      seen.add(span.className);
    } else {
      span.replaceWith(...span.childNodes);
    }
  }
  const contrast = { resultTypes: ["violations"], runOnly: { type: "rule", values: ["color-contrast"] } };
  const tagged = (scheme, violations) => violations.map((violation) => ({ ...violation, scheme }));
  window.__axeResults = new Promise((resolve) => setTimeout(resolve, 0)).then(async () => {
    // The whole page once, the content on the others. Not the "Copied" toast the copy check just
    // raised: axe would measure it mid-fade, in colours blended with the page behind it.
    const scope = firstPage ? { exclude: [".md-dialog"] } : { include: [".md-content"] };
    const light = await axe.run(scope, { resultTypes: ["violations"], runOnly: { type: "tag", values: WCAG } });
    const body = document.body;
    const scheme = body.getAttribute("data-md-color-scheme");
    const still = document.head.appendChild(document.createElement("style"));
    still.textContent = "*, *::before, *::after { transition: none !important; }";
    body.setAttribute("data-md-color-scheme", "slate");
    const dark = await axe.run(scope, contrast);
    body.setAttribute("data-md-color-scheme", scheme);
    still.remove();
    return [...tagged("light", light.violations), ...tagged("dark", dark.violations)];
  });
}"""
_AXE_VIOLATIONS = """async () => (await window.__axeResults).map((violation) => ({
  id: violation.id,
  impact: violation.impact,
  scheme: violation.scheme,
  help: violation.help,
  nodes: violation.nodes.slice(0, 5).map((node) => ({
    target: JSON.stringify(node.target),
    why: [...node.any, ...node.all, ...node.none].map((check) => check.message).filter(Boolean).join("; "),
  })),
}))"""

# Clicks every copy button (opening a collapsed block first) and reads the clipboard; next to
# it, the code as shown, read from the rendered block independently of the theme's copy logic:
# minus prompts, output lines and annotation markers.
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
      // A block in a collapsed <details> is copied as a reader does it: opened first.
      const collapsed = pre.closest("details:not([open])");
      if (collapsed) collapsed.open = true;
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


def _serious(reader: Reader) -> list[str]:
    violations = reader.page.evaluate(_AXE_VIOLATIONS)
    return [
        f"{violation['id']} ({violation['impact']}, {violation['scheme']} scheme): {violation['help']}:\n"
        + "\n".join(f"  {node['target']}: {node['why']}" for node in violation["nodes"])
        for violation in violations
        if violation["impact"] in SERIOUS_IMPACTS
    ]


def _finish(reader: Reader, report: PageReport) -> None:
    """Collect a tab's results for its page: axe-core, phone layout, what it logged."""
    report.serious_violations = _serious(reader)
    desktop = reader.page.viewport_size
    reader.page.set_viewport_size(PHONE)  # the theme's layout follows the width: no reload needed
    layout = reader.page.evaluate(_LAYOUT)
    report.phone_overflow_px = layout["overflow"]
    report.phone_unscrollable_code = layout["unscrollableCode"]
    assert desktop is not None
    reader.page.set_viewport_size(desktop)
    report.console_errors = list(reader.traffic.console_errors)
    report.failed_requests = list(reader.traffic.failed_requests)
    report.foreign_requests = list(reader.traffic.foreign_requests)


def survey(sources: list[str], tabs: list[Reader]) -> dict[str, PageReport]:
    """Load every page of `sources` in the tabs in turn, and report on each."""
    reports = {source: PageReport(source) for source in sources}
    free = deque(tabs)
    busy: deque[tuple[Reader, PageReport]] = deque()
    for index, source in enumerate(sources):
        if not free:
            reader, report = busy.popleft()
            _finish(reader, report)
            free.append(reader)
        reader = free.popleft()
        # The first page waits for the network to settle: the search index and its worker load then.
        reader.open(source, wait_until="networkidle" if index == 0 else "load")
        reports[source].code_blocks = [CodeBlock(**block) for block in reader.page.evaluate(_COPY_EVERY_BLOCK)]
        reader.page.evaluate(_START_AXE, index == 0)
        busy.append((reader, reports[source]))
    for reader, report in busy:
        _finish(reader, report)
    return reports
