// The issue list: selection, bulk-action buttons and keyboard navigation. Progressive enhancement only: without
// this file every checkbox and button still works (the buttons are simply never disabled).
(function () {
  "use strict";

  var form = document.querySelector("form[data-issue-list]");
  if (!form) return;

  var rows = Array.prototype.slice.call(form.querySelectorAll("tr[data-issue-row]"));
  var boxes = rows.map(function (row) { return row.querySelector('input[type="checkbox"][name="issue"]'); });
  var selectAll = form.querySelector("[data-select-all]");
  var countLabel = form.querySelector("[data-selected-count]");
  var actions = Array.prototype.slice.call(form.querySelectorAll("[data-bulk-action]"));
  var menus = Array.prototype.slice.call(form.querySelectorAll("[data-bulk-menu]"));
  var current = -1;

  if (selectAll) selectAll.hidden = false;

  function selectedCount() {
    return boxes.filter(function (box) { return box.checked; }).length;
  }

  function update() {
    var n = selectedCount();
    rows.forEach(function (row, i) { row.classList.toggle("is-selected", boxes[i].checked); });
    actions.forEach(function (button) { button.disabled = n === 0; });
    menus.forEach(function (menu) {
      menu.setAttribute("aria-disabled", n === 0 ? "true" : "false");
      if (n === 0) menu.open = false;
    });
    if (countLabel) countLabel.textContent = n ? n + " selected" : "";
    if (selectAll) {
      selectAll.checked = n > 0 && n === boxes.length;
      selectAll.indeterminate = n > 0 && n < boxes.length;
    }
  }

  form.addEventListener("change", function (e) {
    if (e.target === selectAll) {
      boxes.forEach(function (box) { box.checked = selectAll.checked; });
    }
    update();
  });

  // A closed menu with nothing selected stays closed; an open menu closes on a click elsewhere or Escape.
  menus.forEach(function (menu) {
    menu.querySelector("summary").addEventListener("click", function (e) {
      if (menu.getAttribute("aria-disabled") === "true") e.preventDefault();
    });
  });
  document.addEventListener("click", function (e) {
    menus.forEach(function (menu) { if (menu.open && !menu.contains(e.target)) menu.open = false; });
  });

  // Clicking a row (not its link or checkbox) makes it the current one for the keyboard.
  rows.forEach(function (row, i) {
    row.addEventListener("click", function (e) {
      if (e.target.closest("a, input, button, label")) return;
      setCurrent(i);
    });
  });

  function setCurrent(i) {
    if (!rows.length) return;
    i = Math.max(0, Math.min(rows.length - 1, i));
    if (current >= 0 && rows[current]) rows[current].classList.remove("is-current");
    current = i;
    rows[i].classList.add("is-current");
    rows[i].scrollIntoView({ block: "nearest" });
  }

  function open(row, newTab) {
    var link = row.querySelector("a[data-open]");
    if (!link) return;
    if (newTab) window.open(link.href, "_blank", "noopener");
    else window.location.href = link.href;
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var target = e.target;
    var tag = (target.tagName || "").toLowerCase();
    // keys typed into a field are text; a checkbox takes no letters, so the shortcuts go on working after a click
    var box = tag === "input" && (target.type === "checkbox" || target.type === "radio");
    if ((tag === "input" && !box) || tag === "textarea" || tag === "select" || target.isContentEditable) return;
    var onControl = tag === "a" || tag === "button" || tag === "summary";
    switch (e.key) {
      case "j":
        e.preventDefault();
        setCurrent(current + 1);
        break;
      case "k":
        e.preventDefault();
        setCurrent(current < 0 ? 0 : current - 1);
        break;
      case "x":
        if (current < 0) return;
        e.preventDefault();
        boxes[current].checked = !boxes[current].checked;
        update();
        break;
      case "o":
      case "Enter":
        if (current < 0 || (e.key === "Enter" && onControl)) return;
        e.preventDefault();
        open(rows[current], e.shiftKey);
        break;
      case "Escape":
        menus.forEach(function (menu) { menu.open = false; });
        break;
    }
  });

  // The browser may restore checkboxes on "back": start from what is actually checked.
  window.addEventListener("pageshow", update);
  update();
})();
