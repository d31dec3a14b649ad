// The check-in desk, enhanced: the camera reads the ticket's QR code (with the vendored jsQR) and opens the
// delegate's card; on the card, "Check in" answers in place. Without this script the desk works the same way by
// typing the code and sending the forms. Browsers give the camera only to HTTPS pages and to localhost.
(function () {
  "use strict";

  var CAMERA_KEY = "eventreg-desk-camera"; // the camera stays on from one delegate to the next
  var SCAN_INTERVAL_MS = 150; // about 7 frames a second: enough to read a ticket, light on a phone's battery
  var REPEAT_MS = 4000; // the same refused code held in front of the camera is looked up again after this

  function isJson(response) {
    return (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
  }

  // ---- the desk: the camera scanner
  function setUpScanner(section) {
    var toggle = document.getElementById("scanner-toggle");
    var view = document.getElementById("scanner-view");
    var video = document.getElementById("scanner-video");
    var status = document.getElementById("scanner-status");
    var lookupUrl = section.getAttribute("data-lookup-url");
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    var stream = null;
    var timer = null;
    var busy = false;
    var lastCode = "";
    var lastTime = 0;

    function say(key, text) {
      status.textContent = text || status.getAttribute("data-" + key) || "";
    }

    function stop(remember) {
      window.clearTimeout(timer);
      timer = null;
      if (stream) {
        stream.getTracks().forEach(function (track) {
          track.stop();
        });
      }
      stream = null;
      video.srcObject = null;
      view.hidden = true;
      toggle.textContent = toggle.getAttribute("data-start-label");
      if (!remember) {
        window.sessionStorage.removeItem(CAMERA_KEY);
      }
    }

    function lookUp(code) {
      busy = true;
      say("reading");
      fetch(lookupUrl + "?code=" + encodeURIComponent(code), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          if (!isJson(response)) {
            say("login");
            stop(false);
            return null;
          }
          return response.json().then(function (data) {
            if (response.ok && data.registration) {
              stop(true);
              window.location.assign(data.registration.card_url);
            } else {
              say("", data.error);
            }
          });
        })
        .catch(function () {
          say("offline");
        })
        .finally(function () {
          busy = false;
        });
    }

    function scan() {
      timer = null;
      if (!stream) {
        return;
      }
      if (!busy && video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth) {
        // Scaled down to at most 640 pixels across: a ticket held at the camera is still read, and faster.
        var scale = Math.min(1, 640 / video.videoWidth);
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
        // Tickets are dark on light, printed or on a screen: skipping the inverted pass halves the work per frame.
        var found = window.jsQR(pixels.data, pixels.width, pixels.height, { inversionAttempts: "dontInvert" });
        var code = found && found.data ? found.data.trim() : "";
        var now = Date.now();
        if (code && (code !== lastCode || now - lastTime > REPEAT_MS)) {
          lastCode = code;
          lastTime = now;
          lookUp(code);
        }
      }
      timer = window.setTimeout(scan, SCAN_INTERVAL_MS);
    }

    function start() {
      say("looking");
      navigator.mediaDevices
        .getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
        .then(function (camera) {
          stream = camera;
          video.srcObject = camera;
          view.hidden = false;
          toggle.textContent = toggle.getAttribute("data-stop-label");
          window.sessionStorage.setItem(CAMERA_KEY, "on");
          return video.play();
        })
        .then(function () {
          scan();
        })
        .catch(function () {
          stop(false);
          say("no-camera");
        });
    }

    toggle.addEventListener("click", function () {
      if (stream) {
        stop(false);
        say("", "");
      } else {
        start();
      }
    });
    window.addEventListener("pagehide", function () {
      stop(true);
    });
    section.hidden = false;
    if (window.sessionStorage.getItem(CAMERA_KEY) === "on") {
      start();
    }
  }

  // ---- the card: "Check in" answered in place
  function setUpCheckIn(form) {
    var url = form.getAttribute("data-json-url");
    var registrationId = parseInt(form.getAttribute("data-registration-id"), 10);
    var button = form.querySelector("button[type=submit]");
    var sending = false;

    function verdict(text, kind) {
      var message = document.createElement("p");
      message.id = "desk-verdict";
      message.className = "desk-verdict desk-" + kind; // done, already or refused
      message.setAttribute("role", kind === "done" ? "status" : "alert");
      message.textContent = text;
      form.replaceWith(message);
      if (window.eventregRefreshCheckinCounts) {
        window.eventregRefreshCheckinCounts();
      }
    }

    form.addEventListener("submit", function (event) {
      if (sending) {
        event.preventDefault();
        return;
      }
      event.preventDefault();
      sending = true;
      button.classList.add("is-busy");
      button.setAttribute("aria-disabled", "true");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          "X-CSRFToken": form.elements.csrf_token.value,
        },
        body: JSON.stringify({ registration_id: registrationId }),
      })
        .then(function (response) {
          if (!isJson(response)) {
            throw new Error("not JSON"); // the session ended: the plain form shows the login page
          }
          return response.json().then(function (data) {
            if (response.ok) {
              verdict(data.message, data.checked_in_now ? "done" : "already");
            } else if (response.status === 409 || response.status === 404) {
              verdict(data.error, "refused");
            } else {
              throw new Error(data.error);
            }
          });
        })
        .catch(function () {
          form.submit(); // let the server answer with a page, as without this script
        });
    });
  }

  var section = document.getElementById("scanner");
  if (
    section &&
    window.isSecureContext &&
    navigator.mediaDevices &&
    navigator.mediaDevices.getUserMedia &&
    typeof window.jsQR === "function"
  ) {
    setUpScanner(section);
  }
  var form = document.getElementById("check-in-form");
  if (form && window.fetch) {
    setUpCheckIn(form);
  }
})();
