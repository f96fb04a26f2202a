// The scoring page's enhancements: the running total, and drafts saved as the judge types
// (one second after the last keystroke, one request at a time, so an older save never
// lands after a newer one). Without script the form posts normally with its buttons.
// A final score is never saved by typing: its changes wait for "Finalise score".
(function () {
  "use strict";
  var form = document.getElementById("score-form");
  if (!form || !window.fetch || !window.URLSearchParams) return;
  var inputs = Array.prototype.slice.call(form.querySelectorAll("input.points"));
  var total = document.getElementById("score-total");
  var status = document.getElementById("save-status");
  var badge = document.getElementById("score-state");
  var editable = form.dataset.editable === "1";
  var isFinal = form.dataset.final === "1";
  var DELAY = 1000;
  var timer = null;
  var inFlight = null;  // the running save (a promise), or null
  var dirty = false;    // changes typed since the last save was sent
  var submitting = false;
  // Not form.action: the buttons are named "action", and that name shadows the property.
  var target = form.getAttribute("action");

  function value(input) {
    var text = (input.value || "").trim().replace(",", ".");
    if (!text) return 0;
    var number = Number(text);
    return isFinite(number) ? number : 0;
  }

  function showTotal() {
    var sum = inputs.reduce(function (acc, input) { return acc + value(input); }, 0);
    total.textContent = String(Math.round(sum * 100) / 100);
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function clock(iso) {
    var d = iso ? new Date(iso) : new Date();
    if (isNaN(d.getTime())) d = new Date();
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function say(text, isError) {
    status.textContent = text;
    status.className = "save-status " + (isError ? "field-error" : "hint");
  }

  function clearErrors() {
    inputs.forEach(function (input) {
      input.removeAttribute("aria-invalid");
      input.closest(".criterion").classList.remove("has-error");
      var slot = document.getElementById("e-" + input.id.slice(2));
      if (slot) { slot.textContent = ""; slot.hidden = true; }
    });
  }

  function showError(field, detail) {
    var input = field ? form.querySelector('input[name="' + field + '"]') : null;
    if (input) {
      var slot = document.getElementById("e-" + input.id.slice(2));
      input.setAttribute("aria-invalid", "true");
      input.closest(".criterion").classList.add("has-error");
      if (slot) { slot.textContent = detail; slot.hidden = false; }
    }
    say(detail, true);
  }

  function body() {
    var data = new URLSearchParams(new FormData(form));
    data.set("action", "draft");
    return data;
  }

  function send(keepalive) {
    dirty = false;
    return fetch(target, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: {"Accept": "application/json", "X-CSRF-Token": form.dataset.csrf},
      body: body()
    });
  }

  function save() {
    timer = null;
    if (inFlight) { dirty = true; return inFlight; }
    say(form.dataset.msgSaving, false);
    inFlight = send(false).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok) {
          clearErrors();
          say(form.dataset.msgSaved.replace("{time}", data.saved_at_text || clock(data.saved_at)), false);
          if (badge && data.state === "draft") {
            badge.textContent = form.dataset.stateDraft;
            badge.className = "badge badge-score-draft";
          }
        } else {
          showError(data.field, data.detail || (response.status + " " + response.statusText));
        }
      });
    }, function () {
      dirty = true;
      say(form.dataset.msgNetwork, true);
    }).then(function () {
      inFlight = null;
      if (dirty && !submitting) schedule();
    });
    return inFlight;
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, DELAY);
  }

  form.addEventListener("input", function (event) {
    if (event.target.classList.contains("points")) showTotal();
    if (!editable) return;
    if (isFinal) { say(form.dataset.msgFinal, false); return; }
    dirty = true;
    schedule();
  });

  // A button's save waits for a running autosave, so that it is the last one to land.
  form.addEventListener("submit", function (event) {
    if (timer) { clearTimeout(timer); timer = null; }
    submitting = true;
    if (inFlight) {
      event.preventDefault();
      var button = event.submitter;
      inFlight.then(function () {
        if (form.requestSubmit) form.requestSubmit(button); else form.submit();
      });
    }
  });

  // Leaving within a second of typing: the last changes still go (keepalive outlives the page).
  window.addEventListener("pagehide", function () {
    if (editable && !isFinal && !submitting && (dirty || timer)) {
      if (timer) clearTimeout(timer);
      send(true);
    }
  });

  showTotal();
})();
