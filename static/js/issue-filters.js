// The issue list's environment and release controls: a choice applies at once (without this file, the Filter
// button submits them). The server writes the choice into the search as an environment:/release: term.
(function () {
  "use strict";

  var form = document.querySelector("form[data-issue-filters]");
  if (!form) return;
  var button = form.querySelector("[data-filter-submit]");
  if (button) button.hidden = true;
  form.addEventListener("change", function (e) {
    if (e.target.matches("select[data-filter]")) form.submit();
  });
})();
