// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="#element-id"> or data-copy-text="...".
  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-copy], [data-copy-text]");
    if (!button) return;
    var text = button.getAttribute("data-copy-text");
    if (text === null) {
      var source = document.querySelector(button.getAttribute("data-copy"));
      text = source ? (source.value !== undefined && source.tagName !== "CODE" ? source.value : source.textContent) : "";
    }
    var done = function () {
      var old = button.textContent;
      button.textContent = "Copied";
      button.setAttribute("data-copied", "true");
      setTimeout(function () { button.textContent = old; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  });

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (err) { /* nothing more we can do */ }
    document.body.removeChild(area);
  }

  // "/" focuses the search box; Escape leaves it.
  document.addEventListener("keydown", function (e) {
    var tag = (e.target.tagName || "").toLowerCase();
    var typing = tag === "input" || tag === "textarea" || tag === "select" || e.target.isContentEditable;
    if (e.key === "/" && !typing) {
      var search = document.querySelector("[data-search]");
      if (search) { e.preventDefault(); search.focus(); search.select(); }
    } else if (e.key === "Escape" && typing) {
      e.target.blur();
    }
  });
})();
