/* Mute preview: under a "mute until it gets loud again" form, say how often the condition would have unmuted the
   issue (or the selected issues) over the last two weeks, as the user edits volume, number of periods and period.
   The form carries data-mute-preview (the endpoint's URL) and, on the issue page, data-issue; on the list the
   checked rows' checkboxes (name="issue") are the issues. The answer goes into the form's [data-mute-preview-text].
   When the preview says the mute would be refused (every issue already meets the condition), the form's submit
   button is disabled until the condition changes; the server refuses such a mute all the same. */
(function () {
  "use strict";

  function issueIds(form) {
    if (form.dataset.issue) return [form.dataset.issue];
    var scope = form.form || form.closest("form") || document;
    return Array.prototype.map.call(scope.querySelectorAll('input[name="issue"]:checked'), function (box) {
      return box.value;
    });
  }

  function field(form, name) {
    var el = form.querySelector('[name="' + name + '"]');
    return el ? el.value : "";
  }

  function setUp(form) {
    var out = form.querySelector("[data-mute-preview-text]");
    if (!out) return;
    var timer = null;
    var latest = 0;
    var submit = form.querySelector('button[type="submit"]');

    function refusable(refused) {
      if (!submit) return;
      submit.disabled = refused;
      if (refused) submit.setAttribute("title", "This mute would be refused: choose a higher volume or a shorter span.");
      else submit.removeAttribute("title");
    }

    function update() {
      var ids = issueIds(form);
      if (!ids.length) {
        out.textContent = "Select issues to see how often this would have unmuted them.";
        refusable(false);
        return;
      }
      var params = new URLSearchParams();
      ids.forEach(function (id) { params.append("issue", id); });
      params.set("volume", field(form, "volume"));
      params.set("nr_of_periods", field(form, "nr_of_periods"));
      params.set("period", field(form, "period"));
      var ticket = ++latest;
      fetch(form.dataset.mutePreview + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (ticket !== latest) return;  // an answer to an older edit
          var issues = data.issues || [];
          refusable(!data.error && issues.length > 0 && issues.every(function (row) { return row.met_now; }));
          if (data.error) out.textContent = data.error;
          else if (ids.length === 1 && data.issues.length === 1) out.textContent = data.issues[0].text;
          else out.textContent = data.summary;
        })
        .catch(function () {
          if (ticket === latest) {
            out.textContent = "";
            refusable(false);
          }
        });
    }

    function soon() {
      clearTimeout(timer);
      timer = setTimeout(update, 250);
    }

    form.addEventListener("input", soon);
    form.addEventListener("change", soon);
    var details = form.closest("details");
    if (details) details.addEventListener("toggle", function () { if (details.open) update(); });
    document.addEventListener("change", function (e) {
      if (e.target && e.target.name === "issue" && !form.dataset.issue) soon();
    });
  }

  document.querySelectorAll("[data-mute-preview]").forEach(setUp);
})();
