// The public participant counter: fetch the numbers every few seconds and update the page in place.
// Countries below the event's threshold arrive already grouped (other_countries): they are never named here.
// Text only (textContent, never HTML); paused while the tab is hidden; no highlight for reduced motion.
// Numbers are shown as the server wrote them for the reader's language (count_text: "1 234"), never formatted here.
(function () {
  "use strict";

  var root = document.getElementById("delegate-counter");
  if (!root || !window.fetch || !window.eventregPoll) {
    return;
  }
  var url = root.getAttribute("data-counter-url");
  var seconds = parseFloat(root.getAttribute("data-refresh-seconds")) || 30;
  var headline = document.getElementById("counter-headline");
  var list = document.getElementById("counter-countries");
  var empty = document.getElementById("counter-empty");
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");

  function flash(element) {
    if (reducedMotion && reducedMotion.matches) {
      return;
    }
    // On at once, then fading out through the stylesheet's transition.
    element.classList.add("counter-updated");
    window.setTimeout(function () {
      element.classList.remove("counter-updated");
    }, 150);
  }

  function countryItem(row) {
    var item = document.createElement("li");
    item.setAttribute("data-country", row.code);
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = row.name;
    var count = document.createElement("span");
    count.className = "count";
    count.textContent = row.count_text;
    if (row.flag) {
      item.append(window.eventregFlag(row.flag));
    }
    item.append(" ", name, " ", count);
    return item;
  }

  function show(data) {
    if (headline.textContent !== data.headline) {
      headline.textContent = data.headline;
      flash(headline);
    }
    var items = data.by_country.map(countryItem);
    var other = data.other_countries;
    if (other.countries > 0) {
      items.push(countryItem({ code: "other", flag: null, name: other.name, count_text: other.participants_text }));
    }
    var changed = items.length !== list.children.length || items.some(function (item, index) {
      return item.textContent !== list.children[index].textContent;
    });
    if (changed) {
      list.replaceChildren.apply(list, items);
    }
    empty.hidden = data.participants > 0;
  }

  window.eventregPoll(url, seconds, show);
})();
