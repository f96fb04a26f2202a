// Progressive enhancement of the upload form: drag and drop, a progress bar, and the
// receipt without leaving the page. Without script the form posts normally.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var input = form.querySelector("input[type=file]");
  var zone = document.getElementById("dropzone");
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var button = form.querySelector("button[type=submit]");

  function send(file) {
    // The receipt of an earlier upload must not stand above this one's outcome.
    var receipt = document.querySelector(".receipt");
    if (receipt) receipt.remove();
    var data = new FormData();
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));
    xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    bar.value = 0;
    button.disabled = true;
    status.textContent = "";
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        status.textContent = bar.value + "%";
      }
    };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
      if (xhr.status === 201 && body.redirect) {
        bar.value = 100;
        window.location.assign(body.redirect);
        return;
      }
      button.disabled = false;
      bar.hidden = true;
      status.textContent = body.detail || (xhr.status + " " + xhr.statusText);
      status.className = "field-error";
    };
    xhr.onerror = function () {
      button.disabled = false;
      bar.hidden = true;
      status.textContent = form.dataset.networkError || "Network error";
      status.className = "field-error";
    };
    xhr.send(data);
  }

  form.addEventListener("submit", function (e) {
    if (!input.files || !input.files.length) return;
    e.preventDefault();
    send(input.files[0]);
  });
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) send(e.dataTransfer.files[0]);
  });
})();
