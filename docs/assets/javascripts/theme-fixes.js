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

  // Regions that came into the page after the page view (a listing on the Proofs page), each
  // with its name. In a section the browser has not rendered (`content-visibility: auto`), the
  // size observer reports nothing until the section is scrolled to, and a reader tabbing through
  // the page gets there first: these are measured when they come in, and again when the window
  // changes size (a phone turned, a window narrowed).
  var late = [];
  var remeasure = 0;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(remeasure);
    remeasure = requestAnimationFrame(function () {
      late = late.filter(function (region) { return region.isConnected; });
      reachAll(late);
    });
  });

  function watch(regions, regionNames) {
    regions.forEach(function (region, index) {
      names.set(region, regionNames[index]);
      resized.observe(region);
      touched.observe(region, { attributes: true, attributeFilter: ["tabindex"] });
    });
    late = late.concat(regions);
    reachAll(regions);
  }

  function renew() {
    resized.disconnect();
    touched.disconnect();
    late = [];
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
  }

  return { renew: renew, watch: watch };
})();
document$.subscribe(scrollableRegions.renew);

// On the Proofs page each test's listing waits in a <template> inside its closed box
// (guidekit/extensions/proofs.py): out of the page, a phone neither parses it into elements
// nor styles it. Opening the box (a click or a proof link) puts the listing in, with the copy
// button the theme gives every code block it finds when a page loads, named for its test and
// reachable by keyboard when it scrolls. Printing puts every listing in first: the theme opens
// every box for the printout, but the boxes' `toggle` events come only after it.
var listingCount = 0;
var copyTitle = null;
// Puts one box's listing in; returns its scrollable regions and their names, to be measured.
function insertListing(box, regions, regionNames) {
  var template = box.querySelector(":scope > template.proof-listing");
  if (!template) return;
  if (copyTitle === null) {
    var config = document.querySelector("#__config");
    copyTitle = config ? JSON.parse(config.textContent).translations["clipboard.copy"] : "Copy to clipboard";
  }
  var listing = document.importNode(template.content, true);
  var heading = box.previousElementSibling;
  while (heading && heading.tagName !== "H3") heading = heading.previousElementSibling;
  var test = heading ? heading.id : "a test";
  listing.querySelectorAll("pre").forEach(function (pre) {
    pre.id = pre.id || "__proof_code_" + ++listingCount;
    var button = document.createElement("button");
    button.className = "md-code__button";
    button.title = copyTitle;
    button.setAttribute("data-clipboard-target", "#" + pre.id + " > code");
    button.setAttribute("data-md-type", "copy");
    var nav = document.createElement("nav");
    nav.className = "md-code__nav";
    nav.append(button);
    pre.insertBefore(nav, pre.firstChild);
    var language = /(?:^| )language-(\S+)/.exec(pre.parentElement.className);
    regions.push(pre.querySelector(":scope > code"));
    regionNames.push("Source of " + test + (language ? " (" + language[1] + ")" : ""));
  });
  template.replaceWith(listing);
}
// All the boxes' listings in first, then one measurement: the reads after each insert would
// make the browser lay the page out once per box.
function showListings(boxes) {
  var regions = [];
  var regionNames = [];
  boxes.forEach(function (box) { insertListing(box, regions, regionNames); });
  if (regions.length) scrollableRegions.watch(regions, regionNames);
}
// `toggle` does not bubble: heard while it goes down to the box (capture).
document.addEventListener("toggle", function (event) {
  if (event.target.tagName === "DETAILS" && event.target.open) showListings([event.target]);
}, true);
window.addEventListener("beforeprint", function () {
  var waiting = document.querySelectorAll("details > template.proof-listing");
  showListings(Array.prototype.map.call(waiting, function (template) { return template.parentElement; }));
});

// A proof link lands on a test's heading on the Proofs page, and the test's source is in the
// closed box after it (closed so a phone does not lay out every listing): open the box the
// link points at. On a page view, on a link within the page (instant navigation changes the
// address without a `hashchange`: `location$` reports it) and on a typed fragment.
var followedLink = null;
document.addEventListener("click", function (event) {
  var link = event.target.closest ? event.target.closest("a[href]") : null;
  followedLink = link && link.hash ? link.hash : null;
}, true);
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
    // The sections of the Proofs page out of view are rendered at a guessed height, settled
    // only once the browser has drawn the page: after instant navigation the theme scrolls
    // before that, and the heading ended thousands of pixels away. Scroll again once it has,
    // after a link the reader followed only (back, forward and reload restore their own place).
    if (target.closest(".proof-module") && followedLink === location.hash) {
      followedLink = null;
      requestAnimationFrame(function () {
        requestAnimationFrame(function () { target.scrollIntoView(); });
      });
    }
  }
}
document$.subscribe(openLinkedBox);
if (window.location$) {
  window.location$.subscribe(openLinkedBox);
}
window.addEventListener("hashchange", openLinkedBox);
