// Check-in numbers, live: on the desk and on the dashboard, fetch "checked in of expected" (in all and per country)
// every few seconds and update the page in place. Text only (textContent, never HTML); paused while the tab is
// hidden. Without scripts the numbers are those of the last page load. Numbers are shown as the server wrote them for
// the reader's language (checked_in_text: "1 234"), never formatted here.
(function () {
  "use strict";

  var root = document.querySelector("[data-counts-url]");
  if (!root || !window.fetch || !window.eventregPoll) {
    return;
  }
  var url = root.getAttribute("data-counts-url");
  var seconds = parseFloat(root.getAttribute("data-refresh-seconds")) || 30;

  function setText(id, value) {
    var element = document.getElementById(id);
    if (element && element.textContent !== String(value)) {
      element.textContent = String(value);
    }
  }

  function countryRow(row) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-country", row.code);
    var name = document.createElement("td");
    if (row.flag) {
      name.append(window.eventregFlag(row.flag));
    }
    name.append(" " + row.name);
    tr.append(name);
    [row.checked_in_text, row.expected_text].forEach(function (value) {
      var cell = document.createElement("td");
      cell.className = "num";
      cell.textContent = String(value);
      tr.append(cell);
    });
    return tr;
  }

  function show(data) {
    setText("desk-counts-text", data.headline);
    setText("checkin-headline", data.headline);
    setText("checked-in", data.checked_in_text);
    setText("checked-in-expected", data.expected_text);
    var body = document.querySelector("#checkin-by-country tbody");
    if (body && data.by_country.length) {
      var rows = data.by_country.map(countryRow);
      var changed = rows.length !== body.children.length || rows.some(function (row, index) {
        return row.textContent !== body.children[index].textContent;
      });
      if (changed) {
        body.replaceChildren.apply(body, rows);
      }
    }
  }

  window.eventregRefreshCheckinCounts = window.eventregPoll(url, seconds, show); // checkin.js calls it after a check-in
})();
