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
