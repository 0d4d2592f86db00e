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

// The top bar's theme switch (accounts.theme): flip light/dark on the page at once, then save the choice in the
// user's preferences in the background; if saving fails, the plain form post does it (and reloads the page).
(function () {
  "use strict";
  var button = document.querySelector("[data-theme-toggle]");
  if (!button || !window.fetch) return;
  var root = document.documentElement;
  var darkMedia = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function shown() {
    var theme = root.getAttribute("data-theme");
    if (theme === "light" || theme === "dark") return theme;
    return darkMedia && darkMedia.matches ? "dark" : "light";
  }
  function label() {
    var next = shown() === "dark" ? "light" : "dark";
    button.value = next;
    button.title = "Switch to the " + next + " theme";
    button.setAttribute("aria-label", button.title);
  }
  label();  // "follow the system" is resolved here: the server cannot know which one the system shows

  button.addEventListener("click", function (e) {
    e.preventDefault();
    var form = button.form;
    var previous = root.getAttribute("data-theme");
    var next = shown() === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    label();
    var data = new FormData(form);
    data.set("theme", next);
    fetch(form.action, {method: "POST", body: data, credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (response) { if (!response.ok) throw new Error(String(response.status)); })
      .catch(function () {
        root.setAttribute("data-theme", previous);
        label();
        form.requestSubmit(button);
      });
  });
})();
