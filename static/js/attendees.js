// The attendee list: one box ticks every registration on the page. Without JavaScript the box stays hidden.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input.select-all").forEach(function (all) {
      var table = all.closest("table");
      var boxes = table.querySelectorAll("tbody input[name=ids]");
      if (!boxes.length) { return; }
      all.hidden = false;
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
      });
      table.addEventListener("change", function (event) {
        if (event.target === all) { return; }
        var ticked = Array.prototype.filter.call(boxes, function (box) { return box.checked; }).length;
        all.checked = ticked === boxes.length;
        all.indeterminate = ticked > 0 && ticked < boxes.length;
      });
    });
  });
})();
