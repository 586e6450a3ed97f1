// Elements of the theme that screen readers cannot name (axe-core: aria-dialog-name,
// aria-progressbar-name, link-name): the search overlay, the instant-loading bar, and the
// numbered markers of code annotations. Runs on every page view (instant navigation too);
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
  document.querySelectorAll(".md-annotation__index").forEach(function (marker, index) {
    if (!marker.hasAttribute("aria-label")) {
      var number = marker.querySelector("[data-md-annotation-id]");
      var id = number ? number.getAttribute("data-md-annotation-id") : String(index + 1);
      marker.setAttribute("aria-label", "Annotation " + id);
    }
  });
});
