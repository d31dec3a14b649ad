// The import's confirmation: sent with fetch while the page polls the import's progress ({state, applied, total})
// and shows it; then the page goes where the answer says ({location}). Without JavaScript the POST simply completes.
(function () {
  "use strict";
  var form = document.getElementById("confirm-import");
  if (!form || !window.fetch) return;
  var bar = document.getElementById("import-progress");
  var text = document.getElementById("import-progress-text");
  var timer = null;

  function show(applied, total) {
    bar.hidden = false;
    bar.max = total;
    bar.value = applied;
    text.textContent = applied + " / " + total;
  }

  function poll() {
    fetch(form.dataset.progress, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) { if (progress) show(progress.applied, progress.total); })
      .catch(function () {});
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    show(Number(bar.value) || 0, Number(bar.max) || 0);
    timer = window.setInterval(poll, 500);
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        window.clearInterval(timer);
        window.location.assign(answer.location);
      })
      .catch(function () {
        window.clearInterval(timer);
        form.submit();  // the network failed: let the browser send it plainly (the import resumes)
      });
  });
})();
