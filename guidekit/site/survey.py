"""One visit per page of the nav that gathers what the per-page tests check.

Loading a page and running axe-core on it dominate the browser tests' time, so each page is
visited once, by the first of its tests that runs, and the others read the same report (the
page's tests run in one pytest-xdist worker: `SameParameterScheduling`). On each page: axe-core in the
light scheme (every WCAG A/AA rule), colour contrast again in the dark scheme, every copy
button, keyboard reach at the desktop's and the phone's width, code blocks wider than the
column at the desktop's width, and the layout at a phone's width.

The tab has a touch screen and no mouse (`(hover)` does not match), as a phone or a tablet has:
the theme makes a scrolling code block focusable only where `(hover)` matches, so a tab with a
mouse would hide what a keyboard on a touch device meets.
"""

from dataclasses import dataclass, field
from importlib.resources import files

from playwright.sync_api import ViewportSize

from guidekit.site.browser import Reader

AXE_SCRIPT = (files("axe_playwright_python") / "axe.min.js").read_text()
SERIOUS_IMPACTS = {"serious", "critical"}
PHONE: ViewportSize = {"width": 375, "height": 740}
# The rules of WCAG 2.2 level A and AA (axe-core's best-practice rules rarely rate anything
# serious). axe-core's time grows with the number of elements, and colour contrast is most of
# it. Two reductions keep every colour pairing checked while cutting that work:
# - Highlighted code is thousands of token spans, and a token's colour depends only on its
#   class: one span of each class stays and the others are unwrapped into plain text (the copy
#   buttons were checked on the untouched page first).
# - Contrast depends on an element's own text colour, size, weight and shadow, the backgrounds
#   of its ancestors (up to the first opaque one) and their opacity. Visible text elements are
#   keyed by those computed values, in both schemes; contrast runs on the elements whose key
#   this worker has not checked on an earlier page, and every other rule runs on the whole
#   article. Structural selectors (`:nth-child`) or an inline style change a computed value,
#   so they change the key too. What the key cannot see is a positioned element painted over
#   the text from elsewhere in the tree; the content has none.
# The dark scheme is switched on the way the palette toggle does it (the palette test checks
# the toggle itself), transitions off so no colour is read mid-fade. The site's chrome (header,
# tabs, navigation, footer) comes from one template on every page, so the first page a worker
# visits checks the whole document and the others their article.
_RUN_AXE = """async ({ firstPage, seenStyles }) => {
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
  const body = document.body;
  const scheme = body.getAttribute("data-md-color-scheme");
  const still = document.head.appendChild(document.createElement("style"));
  still.textContent = "*, *::before, *::after { transition: none !important; }";
  const root = firstPage ? document.body : document.querySelector(".md-content");
  // Only text a reader sees, and that axe measures here: a style first met hidden (an inactive
  // tab) must still be checked where it shows.
  const texts = [...root.querySelectorAll("*")].filter((element) =>
    [...element.childNodes].some((node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim())
    && element.checkVisibility({ opacityProperty: true, visibilityProperty: true })
    && !element.closest(".md-dialog")
  );
  const backgrounds = (element) => {
    const layers = [];
    let opaque = false;
    for (let at = element; at; at = at.parentElement) {
      const style = getComputedStyle(at);
      // Every ancestor's opacity fades the text; backgrounds count up to the first opaque one.
      layers.push(opaque ? style.opacity : style.backgroundColor + " " + style.backgroundImage + " " + style.opacity);
      opaque ||= style.backgroundColor.startsWith("rgb(");
    }
    return layers.join("|");
  };
  const styleKey = (element) => {
    const style = getComputedStyle(element);
    return [style.color, style.fontSize, style.fontWeight, style.textShadow, backgrounds(element)].join(";");
  };
  const keys = (schemeName) => {
    body.setAttribute("data-md-color-scheme", schemeName);
    return texts.map((element) => schemeName + ":" + styleKey(element));
  };
  const lightKeys = keys(scheme || "default");
  const darkKeys = keys("slate");
  body.setAttribute("data-md-color-scheme", scheme);
  const known = new Set(seenStyles);
  const fresh = texts.filter((element, index) => !known.has(lightKeys[index]) || !known.has(darkKeys[index]));
  const scope = firstPage ? { exclude: [".md-dialog"] } : { include: [".md-content"] };
  const wcag = { resultTypes: ["violations"], runOnly: { type: "tag", values: WCAG } };
  // Keyboard reach is checked by `_KEYBOARD_REACH`, at both widths.
  const withoutContrast = {
    ...wcag,
    rules: { "color-contrast": { enabled: false }, "scrollable-region-focusable": { enabled: false } },
  };
  const contrast = { resultTypes: ["violations"], runOnly: { type: "rule", values: ["color-contrast"] } };
  const tagged = (schemeName, violations) => violations.map((violation) => ({ ...violation, scheme: schemeName }));
  const results = tagged("light", (await axe.run(scope, withoutContrast)).violations);
  if (fresh.length) {
    const contrastScope = { include: fresh, exclude: firstPage ? [".md-dialog"] : [] };
    results.push(...tagged("light", (await axe.run(contrastScope, contrast)).violations));
    body.setAttribute("data-md-color-scheme", "slate");
    results.push(...tagged("dark", (await axe.run(contrastScope, contrast)).violations));
    body.setAttribute("data-md-color-scheme", scheme);
  }
  still.remove();
  return {
    checkedStyles: [...new Set([...lightKeys, ...darkKeys])],
    contrastChecked: fresh.length,
    textElements: texts.length,
    violations: results.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      scheme: violation.scheme,
      help: violation.help,
      nodes: violation.nodes.slice(0, 5).map((node) => ({
        target: JSON.stringify(node.target),
        why: [...node.any, ...node.all, ...node.none].map((check) => check.message).filter(Boolean).join("; "),
      })),
    })),
  };
}"""

# Keyboard reach, by rule name (not by tag, so a change of axe-core's tags cannot drop it): every
# region that scrolls takes the focus (scrollable-region-focusable), and what takes the focus in
# the article has a role fit for it (focus-order-semantics: a scrolling region is a named
# `region`). Whether a region scrolls depends on the width, so this runs at the desktop's and at
# the phone's (`phase`), after the layout has settled: two frames, so resize observers have run.
# As for the other rules, the first page checks the whole document (the theme's search overlay,
# closed, and dialog aside: their markup is the theme's) and the others their article.
_KEYBOARD_REACH = """async ({ phase, firstPage }) => {
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const scope = firstPage ? { exclude: [".md-dialog", ".md-search"] } : { include: [".md-content"] };
  const rules = { type: "rule", values: ["scrollable-region-focusable", "focus-order-semantics"] };
  const { violations } = await axe.run(scope, { resultTypes: ["violations"], runOnly: rules });
  return violations.flatMap((violation) => violation.nodes.map((node) =>
    `${violation.id} (${phase}): ${JSON.stringify(node.target)}: ${node.html.slice(0, 80)}`));
}"""

# Clicks the copy buttons from block `start` on (opening a collapsed block first, and first of all
# every box whose listing waits in a template: its block and button exist once it is open) and reads the
# clipboard; next to it, the code as shown, read from the rendered block independently of the
# theme's copy logic: minus prompts, output lines and annotation markers.
# The theme copies with `document.execCommand("copy")`, which Chromium allows only while the
# page has a user activation, as a reader's click gives it. Playwright runs each `evaluate` as
# a user gesture, and that activation lasts 5 s: one evaluate for every block of a long page
# (the Proofs page) outlives it, and from then on every click copies nothing. So one evaluate
# copies for at most COPY_BUDGET_MS and returns; the next starts where it stopped, with a fresh
# activation. A copy that still found the activation gone is done again in the next one.
COPY_BUDGET_MS = 2000
_COPY_BLOCKS = """async ({ start, budget }) => {
  const began = performance.now();
  const shown = (code) => {
    const clone = code.cloneNode(true);
    clone.querySelectorAll(".gp, .md-annotation").forEach((element) => element.remove());
    clone.querySelectorAll('[id^="__span-"]').forEach((line) => {
      if (line.querySelector(":scope > .go")) line.remove();
    });
    return clone.textContent.trimEnd();
  };
  // A listing kept in a <template> (the Proofs page) is a code block once its box is open.
  const waiting = () => document.querySelectorAll(".md-content details > template.proof-listing");
  waiting().forEach((template) => { template.parentElement.open = true; });
  for (let tick = 0; tick < 100 && waiting().length; tick++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const pres = [...document.querySelectorAll(".md-content .highlight > pre")];
  const blocks = [];
  for (const pre of pres.slice(start)) {
    if (blocks.length && performance.now() - began > budget) break;
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
      if (!block.copied && !navigator.userActivation.isActive && blocks.length) break;
    }
    blocks.push(block);
  }
  return { blocks, total: pres.length, unopened: waiting().length };
}"""
# The theme's table of contents follows the page's scroll with a delay (250 ms, then a smooth
# scroll of its own), so the sidebars go back to their top only once they have stopped moving.
_BACK_TO_TOP = """async () => {
  const sidebars = [...document.querySelectorAll(".md-sidebar__scrollwrap")];
  const atTop = () => window.scrollY === 0 && sidebars.every((sidebar) => sidebar.scrollTop === 0);
  if (atTop()) return true;
  document.activeElement?.blur();
  window.scrollTo(0, 0);
  for (let attempt = 0; attempt < 10; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (atTop()) return true;
    sidebars.forEach((sidebar) => { sidebar.scrollTop = 0; });
  }
  return atTop();
}"""
# Horizontal overflow of the page, and code blocks wider than their box that do not scroll.
_LAYOUT = """() => ({
  overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  unscrollableCode: Array.from(document.querySelectorAll(".md-content pre > code"))
    .filter((code) => code.scrollWidth > code.clientWidth)
    .filter((code) => !["auto", "scroll"].includes(getComputedStyle(code).overflowX))
    .map((code) => code.textContent.slice(0, 60)),
})"""

# Code blocks wider than their box at the desktop's width: the shown code is formatted to fit
# the column (snippets/pyproject.toml's line length), so none should scroll sideways there.
# Every block is measured where a reader can see it: collapsed blocks are open by now (the copy
# step opened them), and each tab of a tabbed set is selected in turn, then the first one again.
# For each wide block: by how many px, its first line, and its lines longer than the box holds
# (tabs expanded to the block's tab size), counted in the block's own character width.
_WIDE_CODE = """() => {
  const wide = new Map();
  const measure = () => {
    for (const box of document.querySelectorAll(".md-content pre, .md-content pre > code")) {
      const over = box.scrollWidth - box.clientWidth;
      const code = box.matches("pre") ? box.querySelector(":scope > code") || box : box;
      // A diagram's source, collapsed under its drawing, is a diagram, not code to format.
      const diagramSource = box.closest("details")?.previousElementSibling?.matches(".diagram");
      if (over > 0 && !diagramSource && box.checkVisibility() && over > (wide.get(code)?.over || 0)) {
        const style = getComputedStyle(code);
        const probe = code.appendChild(document.createElement("span"));
        probe.textContent = "x".repeat(100);
        const charWidth = probe.getBoundingClientRect().width / 100;
        probe.remove();
        const inner = code.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        const fits = Math.floor(inner / charWidth);
        const tab = " ".repeat(parseInt(style.tabSize) || 8);
        const lines = code.textContent.split("\\n").map((line) => line.replaceAll("\\t", tab));
        const block = code.closest(".highlight");
        wide.set(code, {
          over,
          // What the page says just before the block (the Proofs page names the file it comes from).
          introduction: (block?.previousElementSibling?.textContent || "").slice(-300),
          fits,
          first_line: lines[0].trim().slice(0, 70),
          long_lines: lines.filter((line) => line.trimEnd().length > fits),
        });
      }
    }
  };
  measure();
  for (const set of document.querySelectorAll(".md-content .tabbed-set")) {
    const tabs = [...set.querySelectorAll(":scope > input")];
    const chosen = tabs.find((tab) => tab.checked);
    for (const tab of tabs) {
      tab.checked = true;
      measure();
    }
    if (chosen) chosen.checked = true;
  }
  return [...wide.values()];
}"""


@dataclass
class WideCode:
    """A code block wider than its box: by how many px, its first line, and the lines too long for it."""

    over: int
    fits: int
    introduction: str
    first_line: str
    long_lines: list[str]


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
    wide_code: list[WideCode] = field(default_factory=list)
    """Code blocks that scroll sideways at the desktop's width: by how many px, and their first line."""
    phone_overflow_px: int = 0
    phone_unscrollable_code: list[str] = field(default_factory=list)
    keyboard_unreachable: list[str] = field(default_factory=list)
    """Scrolling regions a keyboard cannot reach, or focusable ones without a fit role, at either width."""
    contrast_checked: tuple[int, int] = (0, 0)
    """Text elements whose contrast was measured on this page, of all its text elements."""


@dataclass
class Surveyor:
    """Visits pages in one desktop tab, remembering which text styles it has checked for contrast."""

    reader: Reader
    checked_styles: set[str] = field(default_factory=set)
    visited: int = 0

    def copy_every_block(self) -> list[CodeBlock]:
        """Every code block of the open page, with what its copy button copied (see `_COPY_BLOCKS`)."""
        blocks: list[CodeBlock] = []
        while True:
            batch = self.reader.page.evaluate(_COPY_BLOCKS, {"start": len(blocks), "budget": COPY_BUDGET_MS})
            assert batch["unopened"] == 0, (
                f"{batch['unopened']} listings stayed in their templates after their boxes opened"
            )
            blocks += [CodeBlock(**block) for block in batch["blocks"]]
            if len(blocks) >= batch["total"]:
                break
        # The theme focuses each button it copied from, which scrolls the page, and the table of
        # contents with it, down to the last one: both go back to their top, as loaded, for the
        # checks that follow.
        assert self.reader.page.evaluate(_BACK_TO_TOP), "the page did not go back to its top after copying"
        return blocks

    def survey(self, source: str) -> PageReport:
        """Load one page and report on it."""
        reader, report = self.reader, PageReport(source)
        reader.open(source)
        if self.visited == 0:
            # The first page also waits for the network to settle: the search index and its worker
            # load then. Only after `load`: a long page is still being parsed, its code blocks
            # without their copy buttons, when the network has been idle for 500 ms.
            reader.page.wait_for_load_state("networkidle")
        reader.page.bring_to_front()  # copying needs the focus, which another tab of this browser may hold
        report.code_blocks = self.copy_every_block()
        first_page = self.visited == 0
        axe = reader.page.evaluate(_RUN_AXE, {"firstPage": first_page, "seenStyles": sorted(self.checked_styles)})
        self.visited += 1
        self.checked_styles.update(axe["checkedStyles"])
        report.contrast_checked = (axe["contrastChecked"], axe["textElements"])
        report.serious_violations = [
            f"{violation['id']} ({violation['impact']}, {violation['scheme']} scheme): {violation['help']}:\n"
            + "\n".join(f"  {node['target']}: {node['why']}" for node in violation["nodes"])
            for violation in axe["violations"]
            if violation["impact"] in SERIOUS_IMPACTS
        ]
        report.keyboard_unreachable = reader.page.evaluate(
            _KEYBOARD_REACH, {"phase": "desktop", "firstPage": first_page}
        )
        report.wide_code = [WideCode(**block) for block in reader.page.evaluate(_WIDE_CODE)]
        desktop = reader.page.viewport_size
        reader.page.set_viewport_size(PHONE)  # the theme's layout follows the width: no reload needed
        report.keyboard_unreachable += reader.page.evaluate(
            _KEYBOARD_REACH, {"phase": "phone", "firstPage": first_page}
        )
        layout = reader.page.evaluate(_LAYOUT)
        report.phone_overflow_px = layout["overflow"]
        report.phone_unscrollable_code = layout["unscrollableCode"]
        assert desktop is not None
        reader.page.set_viewport_size(desktop)
        report.console_errors = list(reader.traffic.console_errors)
        report.failed_requests = list(reader.traffic.failed_requests)
        report.foreign_requests = list(reader.traffic.foreign_requests)
        return report
