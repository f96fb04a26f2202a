// Progressive enhancement of the upload form: drag and drop, progress (MB done of the
// total, speed, time left), a cancel button, and the receipt without leaving the page.
// Without script the form posts normally. Texts come from the form's data-* attributes.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var input = form.querySelector("input[type=file]");
  var zone = document.getElementById("dropzone");
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var button = document.getElementById("upload-button");
  var cancel = document.getElementById("upload-cancel");
  var label = button.textContent;
  var texts = form.dataset;
  var current = null;

  function number(value, digits) {
    return value.toFixed(digits).replace(".", texts.decimal || ".");
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_m, key) { return values[key]; });
  }

  function timeLeft(seconds) {
    if (!isFinite(seconds)) return "";
    if (seconds < 90) return fill(texts.leftSeconds, { n: Math.max(1, Math.round(seconds)) });
    return fill(texts.leftMinutes, { n: Math.round(seconds / 60) });
  }

  function busy(on) {
    button.disabled = on;
    button.textContent = on ? texts.busy : label;
    cancel.hidden = !on;
    bar.hidden = !on;
  }

  function fail(message) {
    busy(false);
    current = null;
    status.textContent = message;
    status.className = "field-error";
  }

  function send(file) {
    // The receipt of an earlier upload must not stand above this one's outcome.
    var receipt = document.querySelector(".receipt");
    if (receipt) receipt.remove();
    var data = new FormData();
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    current = xhr;
    var started = Date.now();
    xhr.open("POST", form.getAttribute("action"));
    xhr.setRequestHeader("X-CSRF-Token", texts.csrf);
    xhr.setRequestHeader("Accept", "application/json");
    bar.value = 0;
    busy(true);
    status.textContent = "";
    status.className = "hint";
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      bar.value = Math.round((e.loaded / e.total) * 100);
      var mb = 1024 * 1024;
      var elapsed = (Date.now() - started) / 1000;
      var speed = elapsed > 0 ? e.loaded / elapsed : 0;
      var parts = [fill(texts.progress, { done: number(e.loaded / mb, 1),
                                          total: number(e.total / mb, 1) })];
      if (elapsed >= 0.5 && speed > 0) {
        parts.push(fill(texts.speed, { speed: number(speed / mb, 1) }));
        if (e.loaded < e.total) parts.push(timeLeft((e.total - e.loaded) / speed));
      }
      status.textContent = parts.filter(Boolean).join(" · ");
    };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status === 201 && body.redirect) {
        bar.value = 100;
        cancel.hidden = true;
        window.location.assign(body.redirect);
        return;
      }
      fail(body.detail || (xhr.status + " " + xhr.statusText));
    };
    xhr.onerror = function () { fail(texts.networkError || "Network error"); };
    xhr.onabort = function () {
      busy(false);
      current = null;
      status.textContent = texts.cancelled;
      status.className = "hint";
    };
    xhr.send(data);
  }

  cancel.addEventListener("click", function () {
    if (current) current.abort();
  });
  form.addEventListener("submit", function (e) {
    if (!input.files || !input.files.length) return;
    e.preventDefault();
    if (!current) send(input.files[0]);
  });
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) {
    if (!current && e.dataTransfer && e.dataTransfer.files.length) send(e.dataTransfer.files[0]);
  });
})();
