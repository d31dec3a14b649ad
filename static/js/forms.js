// Small progressive enhancements for forms; everything works without them.
(function () {
  "use strict";
  // A second tap on a slow network must not send the form twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.submitting === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.setAttribute("aria-disabled", "true");
      button.classList.add("is-busy");
    });
    // If the browser comes back to this page (Back button), let the form be sent again.
    window.setTimeout(function () { form.dataset.submitting = ""; }, 15000);
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) { form.dataset.submitting = ""; });
    document.querySelectorAll("button.is-busy").forEach(function (button) {
      button.classList.remove("is-busy");
      button.removeAttribute("aria-disabled");
    });
  });
  // After a refused submit, take the reader (and the screen reader) to the list of what to correct.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("form-errors");
    if (summary) { summary.focus(); }
  });
})();
