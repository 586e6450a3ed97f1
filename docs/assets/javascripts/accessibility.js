// Two landmarks of the theme have no accessible name (axe-core: aria-dialog-name,
// aria-progressbar-name): the search overlay, a dialog, and the instant-loading bar.
// Screen readers announce these names; the header persists across instant navigation,
// so naming it again on every page view is cheap and idempotent.
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
});
