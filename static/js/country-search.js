// The country select's search: a text field before the select keeps only the countries and regions whose name, in
// the page's language or in English (each option's data-en), contains what is typed, and picks the first of them
// when the one chosen is not among them. Without this script the select is the plain sorted list. Enter or the
// down arrow in the search field goes on to the select; how many were found is announced (role=status).
(function () {
  "use strict";

  // Case, accents and Arabic short vowels ignored; Arabic letters that are typed one for the other folded together.
  var ARABIC_FOLDS = { "\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627", "\u0671": "\u0627",
    "\u0649": "\u064A", "\u0629": "\u0647", "\u0640": "" };

  function folded(text) {
    return text.normalize("NFKD").replace(/\p{M}/gu, "").toLocaleLowerCase()
      .replace(/[\u0622\u0623\u0625\u0671\u0649\u0629\u0640]/g, function (letter) { return ARABIC_FOLDS[letter]; })
      .replace(/\s+/g, " ").trim();
  }

  function enhance(select) {
    var placeholder = select.options[0] && select.options[0].value === "" ? select.options[0] : null;
    var everyOption = Array.prototype.slice.call(select.options).filter(function (option) {
      return option !== placeholder;
    });
    var keys = everyOption.map(function (option) {
      return folded(option.textContent) + "\n" + folded(option.getAttribute("data-en") || "");
    });
    var id = select.id + "-search";

    var field = document.createElement("div");
    field.className = "field field-searchfield country-search";
    var label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = select.getAttribute("data-search-label");
    var input = document.createElement("input");
    input.type = "search";
    input.id = id;
    input.dir = "auto";
    input.autocomplete = "off";
    input.setAttribute("aria-controls", select.id);
    input.setAttribute("aria-describedby", id + "-hint " + id + "-status");
    var hint = document.createElement("p");
    hint.className = "hint";
    hint.id = id + "-hint";
    hint.textContent = select.getAttribute("data-search-hint");
    var status = document.createElement("p");
    status.className = "hint";
    status.id = id + "-status";
    status.setAttribute("role", "status");
    field.append(label, input, hint, status);
    select.closest(".field").before(field);

    function filter() {
      var query = folded(input.value);
      var chosen = select.value;
      var shown = query ? everyOption.filter(function (option, index) { return keys[index].indexOf(query) !== -1; })
        : everyOption;
      if (!shown.length) {
        status.textContent = select.getAttribute("data-search-none");
        return; // the list stays as it was, with the choice already made
      }
      select.replaceChildren.apply(select, placeholder ? [placeholder].concat(shown) : shown);
      var kept = shown.some(function (option) { return option.value === chosen; });
      select.value = kept ? chosen : (query ? shown[0].value : chosen);
      status.textContent = query
        ? select.getAttribute("data-search-found").replace("%(num)s", String(shown.length)) : "";
    }

    input.addEventListener("input", filter);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === "ArrowDown") {
        event.preventDefault(); // Enter would send the form
        select.focus();
      }
    });
  }

  document.querySelectorAll("select[data-search-label]").forEach(enhance);
})();
