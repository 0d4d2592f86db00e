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

  // A long local variable's value is cut to a few lines with a "Show more" / "Show less" toggle (without JS it shows
  // whole). The button follows its value.
  document.querySelectorAll("[data-long-toggle]").forEach(function (button) {
    var value = button.previousElementSibling;
    if (!value || !value.hasAttribute("data-long-value")) return;
    if (!value.id) value.id = "long-value-" + Math.random().toString(36).slice(2);
    button.setAttribute("aria-controls", value.id);
    value.classList.add("is-cut");
    button.hidden = false;
    button.addEventListener("click", function () {
      var cut = value.classList.toggle("is-cut");
      button.textContent = cut ? "Show more" : "Show less";
      button.setAttribute("aria-expanded", cut ? "false" : "true");
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
