// A document job's page (templates/documents/job.html): while a worker renders the document, ask the job's JSON
// ({state, state_label, done, total, progress_text, download_url, error}) every two seconds and show it in place (the state line is
// an aria-live region); stop once the job is done or failed, showing the download link or the error. Stop too, and
// say so in the live region (the page's translated data-gone / data-signed-out), when the job is gone (404: it
// expired) or the answer is not JSON (the session ended: the login page). Without JavaScript the page reloads
// itself instead (a meta refresh inside <noscript>).
(function () {
  "use strict";
  var section = document.getElementById("document-job");
  if (!section || !window.fetch || section.dataset.working !== "true") return;
  var label = document.getElementById("job-state-label");
  var count = document.getElementById("job-count");
  var bar = document.getElementById("job-progress");
  var hint = document.getElementById("job-refresh-hint");
  var error = document.getElementById("job-error");
  var download = document.getElementById("job-download");
  var link = document.getElementById("job-download-link");

  function show(job) {
    label.textContent = job.state_label;
    if (job.total) {
      bar.max = job.total;
      bar.value = job.done;
      count.hidden = false;
      count.textContent = "· " + job.progress_text;  // "3 of 9", in the reader's language
    }
    if (job.error) {
      error.textContent = job.error;
      error.hidden = false;
    } else {
      error.hidden = true;
    }
    if (job.download_url) {
      link.href = job.download_url;
      download.hidden = false;
    }
    var finished = job.state === "done" || job.state === "failed";
    if (finished && hint) hint.hidden = true;
    if (job.state === "failed") bar.hidden = true;
    return finished;
  }

  function stop(message) {
    label.textContent = message;
    count.hidden = true;
    bar.hidden = true;
    if (hint) hint.hidden = true;
  }

  function poll() {
    fetch(section.dataset.status, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        if (response.status === 404) return "gone";
        if (response.ok && !json) return "signed-out";  // redirected to the login page
        return response.ok ? response.json() : null;
      })
      .then(function (job) {
        if (job === "gone") stop(section.dataset.gone);
        else if (job === "signed-out") stop(section.dataset.signedOut);
        else if (!job || !show(job)) window.setTimeout(poll, 2000);  // null: a server error, try again
      })
      .catch(function () {
        window.setTimeout(poll, 5000);  // offline or a restart: try again a little later
      });
  }

  window.setTimeout(poll, 1000);
})();
