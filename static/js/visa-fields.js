// The visa fields show only while "I need a visa invitation letter" is ticked. Without JavaScript they are always
// shown, with a hint that they are only for a visa letter; the server requires them only when the box is ticked.
(function () {
  "use strict";
  document.querySelectorAll("fieldset[data-visa-toggle]").forEach(function (fields) {
    var box = document.getElementById(fields.getAttribute("data-visa-toggle"));
    if (!box) { return; }
    function follow() { fields.hidden = !box.checked; }
    box.setAttribute("aria-controls", fields.id);
    box.addEventListener("change", follow);
    follow();
  });
})();
