// Unsaved changes are not lost by accident: leaving a page whose form marked
// data-warn-unsaved was changed (and not sent) asks first. Sending the form clears it.
// A form shown again after a refused save (data-unsaved) holds unsaved text from the start.
(function () {
  "use strict";
  var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-warn-unsaved]"));
  if (!forms.length) return;

  function snapshot(form) {
    var parts = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.type === "file" || el.disabled) return;
      if ((el.type === "checkbox" || el.type === "radio")) {
        parts.push(el.name + "=" + (el.checked ? el.value : ""));
      } else {
        parts.push(el.name + "=" + el.value);
      }
    });
    return parts.join("\u0000");
  }

  var initial = new Map();
  var sending = false;
  forms.forEach(function (form) {
    initial.set(form, form.hasAttribute("data-unsaved") ? null : snapshot(form));
    form.addEventListener("submit", function () { sending = true; });
  });

  function changed() {
    return forms.some(function (form) { return snapshot(form) !== initial.get(form); });
  }

  window.addEventListener("beforeunload", function (e) {
    if (sending || !changed()) return;
    e.preventDefault();
    e.returnValue = "";  // older browsers need a value to show their dialog
    return "";
  });
  // Back from the browser's cache after sending: the page is as it was, watch it again.
  window.addEventListener("pageshow", function () { sending = false; });
})();
