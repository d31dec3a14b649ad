// Live numbers, shared by the public counter (counter.js) and the check-in counts (checkin-counts.js): fetch JSON
// from `url` every `seconds` and hand it to `show`. One request at a time; paused while the tab is hidden and
// resumed when it shows again; an answer that is not JSON (a login page after the session ended) or a network
// error keeps the last numbers. The server does not count these requests as activity (eventreg/auth/sessions.py,
// POLLING_ENDPOINTS: add a new polled URL there), so a page left open does not keep an idle login alive. Returns a
// function that refreshes at once.
window.eventregPoll = function (url, seconds, show) {
  "use strict";

  var timer = null;
  var inFlight = false;

  function refresh() {
    timer = null;
    if (inFlight || document.visibilityState === "hidden") {
      return; // resumed by the visibilitychange handler, or by the fetch under way
    }
    inFlight = true;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        return response.ok && json ? response.json() : null;
      })
      .then(function (data) {
        if (data) {
          show(data);
        }
      })
      .catch(function () {
        // Offline or a server restart: keep the last numbers and try again later.
      })
      .finally(function () {
        inFlight = false;
        schedule();
      });
  }

  function schedule() {
    if (timer === null && !inFlight && document.visibilityState !== "hidden") {
      timer = window.setTimeout(refresh, seconds * 1000);
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      window.clearTimeout(timer);
      timer = null;
    } else if (timer === null) {
      refresh();
    }
  });

  schedule();
  return refresh;
};

// A country's flag picture from the JSON's `flag` address, as eventreg/geo/flags.py writes it in the pages:
// decorative (alt=""), the name stands beside it.
window.eventregFlag = function (src) {
  "use strict";

  var image = document.createElement("img");
  image.className = "flag";
  image.src = src;
  image.alt = "";
  image.width = 20;
  image.height = 15;
  return image;
};
