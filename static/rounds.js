// The round form: keeps the "total of the maximum points" up to date while typing.
// Without this script the total is shown as of the last time the form was displayed.
(function () {
  "use strict";
  var form = document.querySelector(".round-form");
  var total = document.querySelector("#rubric-total strong");
  if (!form || !total) { return; }
  function update() {
    var sum = 0;
    form.querySelectorAll(".criterion").forEach(function (row) {
      var name = row.querySelector("input[name$='_name']");
      var max = row.querySelector(".max-points");
      var value = parseFloat((max.value || "").replace(",", "."));
      if (name.value.trim() && isFinite(value)) { sum += value; }
    });
    total.textContent = String(Math.round(sum * 100) / 100);
  }
  form.addEventListener("input", update);
})();
