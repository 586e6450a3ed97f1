// Elements of the theme that screen readers cannot name (axe-core: aria-dialog-name,
// aria-progressbar-name, link-name, label): the search overlay, the instant-loading bar, the
// numbered markers of code annotations, and the checkboxes of task lists (named by their item). Runs on every page view (instant navigation too);
// naming is idempotent.
document$.subscribe(function () {
  var names = {
    ".md-search[role=dialog]": "Search",
    ".md-progress[role=progressbar]": "Loading page",
  };
  Object.keys(names).forEach(function (selector) {
    var element = document.querySelector(selector);
    if (element && !element.hasAttribute("aria-label")) {
      element.setAttribute("aria-label", names[selector]);
    }
  });
  document.querySelectorAll(".task-list-item > .task-list-control > input[type=checkbox]").forEach(function (box) {
    if (!box.hasAttribute("aria-label")) {
      var item = box.closest(".task-list-item");
      box.setAttribute("aria-label", item.textContent.trim().replace(/\s+/g, " ").slice(0, 120));
    }
  });
  document.querySelectorAll(".md-annotation__index").forEach(function (marker, index) {
    if (!marker.hasAttribute("aria-label")) {
      var number = marker.querySelector("[data-md-annotation-id]");
      var id = number ? number.getAttribute("data-md-annotation-id") : String(index + 1);
      marker.setAttribute("aria-label", "Annotation " + id);
    }
  });
});

// Regions that scroll (code blocks, table wrappers, diagrams) must take the keyboard's
// focus, or a keyboard reader cannot scroll them (axe-core: scrollable-region-focusable). The
// theme makes a code block focusable only where `(hover)` matches, so on a touch screen it
// never is, and it takes the `tabindex` away again whenever the block's width changes: a
// mutation observer puts it back. A focusable region gets the role and name a screen reader
// announces on focus (axe-core's focus-order-semantics: a focusable element that scrolls wants
// a landmark role); one that stops scrolling loses all three.
// Whether a region scrolls follows the width (phone or desktop, a <details> opened, a tab
// switched), so each region is watched for size changes; both watchers are renewed on every
// page view (instant navigation too).
var scrollableRegions = (function () {
  var resized = new ResizeObserver(function (entries) {
    reachAll(entries.map(function (entry) { return entry.target; }));
  });
  var touched = new MutationObserver(function (records) {
    reachAll(records.map(function (record) { return record.target; }));
  });
  var names = new WeakMap();

  function scrolls(region) {
    return region.scrollWidth > region.clientWidth || region.scrollHeight > region.clientHeight;
  }

  // All sizes are read before any attribute is written: a write between two reads would make
  // the browser lay the whole page out again for the next read (about 30 times on a long page).
  function reachAll(regions) {
    regions.map(scrolls).forEach(function (focusable, index) { reach(regions[index], focusable); });
  }

  function reach(region, focusable) {
    if (focusable && region.getAttribute("tabindex") !== "0") {
      region.setAttribute("tabindex", "0");
    } else if (!focusable && region.hasAttribute("tabindex")) {
      region.removeAttribute("tabindex");
    }
    if (focusable && !region.hasAttribute("aria-label")) {
      region.setAttribute("role", "region");
      region.setAttribute("aria-label", names.get(region));
    } else if (!focusable && region.getAttribute("aria-label") === names.get(region)) {
      region.removeAttribute("role");
      region.removeAttribute("aria-label");
    }
  }

  function named(selector, name) {
    return Array.prototype.map.call(document.querySelectorAll(selector), function (region, index) {
      names.set(region, name(region, index + 1));
      return region;
    });
  }

  return function () {
    resized.disconnect();
    touched.disconnect();
    var regions = [].concat(
      named(".md-content pre > code", function (code, number) {
        var block = code.closest(".highlight");
        var language = block && /(?:^| )language-(\S+)/.exec(block.className);
        return "Code block " + number + (language ? " (" + language[1] + ")" : "");
      }),
      named(".md-content .md-typeset__scrollwrap", function (wrapper, number) {
        var caption = wrapper.querySelector("caption");
        return "Table " + number + (caption ? ": " + caption.textContent.trim() : "");
      }),
      named(".md-content .diagram", function (diagram, number) {
        var title = diagram.querySelector("svg > title");
        return "Diagram " + number + (title ? ": " + title.textContent.trim() : "");
      })
    );
    // No sizes are read here: a size observer reports each region once, right after the
    // browser's own next layout, so the first reading costs no extra layout.
    regions.forEach(function (region) {
      resized.observe(region);
      touched.observe(region, { attributes: true, attributeFilter: ["tabindex"] });
    });
  };
})();
document$.subscribe(scrollableRegions);

// On the Proofs page each test's listing waits in a <template> inside its closed box
// (guidekit/extensions/proofs.py): out of the page, a phone neither parses it into elements
// nor styles it. Opening the box (a click, a proof link, printing) puts the listing in, with
// the copy button the theme gives every code block it finds when a page loads, and makes it
// reachable by keyboard when it scrolls.
var listingCount = 0;
function showListing(box) {
  var template = box.querySelector(":scope > template.proof-listing");
  if (!template) return;
  var listing = document.importNode(template.content, true);
  var title = document.querySelector("#__config");
  var copy = title ? JSON.parse(title.textContent).translations["clipboard.copy"] : "Copy to clipboard";
  listing.querySelectorAll("pre").forEach(function (pre) {
    pre.id = pre.id || "__proof_code_" + ++listingCount;
    var button = document.createElement("button");
    button.className = "md-code__button";
    button.title = copy;
    button.setAttribute("data-clipboard-target", "#" + pre.id + " > code");
    button.setAttribute("data-md-type", "copy");
    var nav = document.createElement("nav");
    nav.className = "md-code__nav";
    nav.append(button);
    pre.insertBefore(nav, pre.firstChild);
  });
  template.replaceWith(listing);
  scrollableRegions();
}
// `toggle` does not bubble: heard while it goes down to the box (capture).
document.addEventListener("toggle", function (event) {
  if (event.target.tagName === "DETAILS" && event.target.open) showListing(event.target);
}, true);

// A proof link lands on a test's heading on the Proofs page, and the test's source is in the
// closed box after it (closed so a phone does not lay out every listing): open the box the
// link points at. On a page view, on a link within the page (instant navigation changes the
// address without a `hashchange`: `location$` reports it) and on a typed fragment.
function openLinkedBox() {
  var id = location.hash.slice(1);
  try {
    id = decodeURIComponent(id);
  } catch (malformed) {
    // a fragment such as `#100%` is not percent-encoded: look it up as it is
  }
  var target = id && document.getElementById(id);
  var next = target && target.tagName === "H3" ? target.nextElementSibling : null;
  while (next && next.tagName !== "DETAILS" && !/^H[1-6]$/.test(next.tagName)) {
    next = next.nextElementSibling;
  }
  if (next && next.tagName === "DETAILS" && next.classList.contains("example")) {
    next.open = true;
  }
}
document$.subscribe(openLinkedBox);
if (window.location$) {
  window.location$.subscribe(openLinkedBox);
}
window.addEventListener("hashchange", openLinkedBox);
