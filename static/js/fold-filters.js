// The attendee list's search and filters: the server sends them open; on a phone they fold away, one tap from
// being opened, unless a filter is in use (then the server leaves out data-fold-on-phone). Without JavaScript
// they stay open. The width is site.css's phone width for the list.
(function () {
  "use strict";
  if (!window.matchMedia("(max-width: 40rem)").matches) { return; }
  document.querySelectorAll("details[data-fold-on-phone]").forEach(function (panel) { panel.open = false; });
})();
