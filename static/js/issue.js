// The issue page's progressive enhancements; everything works without this file.
(function () {
  "use strict";

  // "Expand all" / "Collapse all" for the frames of a stack trace, their local variables and the lists and dicts
  // inside those (the buttons are hidden without JS).
  document.querySelectorAll("[data-frames]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("data-frames") === "open";
      document.querySelectorAll("details.frame-details, details.frame-vars, details.var-tree").forEach(function (d) { d.open = open; });
    });
  });

  // Ask before destructive forms (data-confirm="question").
  document.addEventListener("submit", function (e) {
    var question = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) e.preventDefault();
  });

  // Close the mute menu on Escape or a click outside it.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
      d.open = false;
      var summary = d.querySelector("summary");
      if (summary) summary.focus();
    });
  });
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.dropdown[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.open = false;
    });
  });

  // ← / →: the previous (older) / next (newer) event: the links that carry data-key.
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.shiftKey) return;
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || e.target.isContentEditable) return;
    var link = document.querySelector('a[data-key="' + e.key + '"]');
    if (link) { e.preventDefault(); link.click(); }
  });
})();
