// The keyboard shortcuts dialog (templates/_keyboard_help.html): `?` (outside a text field) or the "Keyboard
// shortcuts" button opens it as a modal dialog, the focus on its Close button; Esc, Close or a click beside it
// shuts it and the focus returns to where it was. While it is open the page's own keys (←/→, j/k, ...) rest.
(function () {
  "use strict";
  var dialog = document.querySelector("[data-keyboard-help-dialog]");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var closeButton = dialog.querySelector("[data-keyboard-help-close]");
  var opener = document.querySelector("[data-keyboard-help-open]");
  var returnTo = null;

  function open() {
    if (dialog.open) return;
    returnTo = document.activeElement;
    dialog.showModal();
    closeButton.focus();
  }

  function close() {
    if (dialog.open) dialog.close();
  }

  dialog.addEventListener("close", function () {
    if (returnTo && typeof returnTo.focus === "function" && document.contains(returnTo)) returnTo.focus();
    returnTo = null;
  });
  closeButton.addEventListener("click", close);
  // a click on the backdrop lands on the dialog element itself
  dialog.addEventListener("click", function (e) {
    if (e.target === dialog) close();
  });
  if (opener) {
    opener.hidden = false;
    opener.addEventListener("click", open);
  }

  // capture phase, on window: before the pages' own document-level handlers
  window.addEventListener(
    "keydown",
    function (e) {
      if (dialog.open) {
        if (e.key === "Escape") {
          e.preventDefault();
          e.stopPropagation();
          close();
        } else if (e.key !== "Tab" && e.key !== "Enter" && e.key !== " ") {
          e.stopPropagation();  // the page underneath does not move while the help is shown
        }
        return;
      }
      if (e.key !== "?" || e.ctrlKey || e.metaKey || e.altKey) return;
      var target = e.target;
      var tag = (target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable) return;
      e.preventDefault();
      open();
    },
    true
  );
})();
