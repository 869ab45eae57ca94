/* A product's photos on the dashboard: drag photos onto the upload form (or choose them) and each is sent
   with XMLHttpRequest to the address the plain form posts to, with its own progress bar; then the photos
   section is replaced by the one the server answers. Without this script the form uploads one photo. */
(function () {
  "use strict";

  function enhance(root) {
    root.querySelectorAll("[data-photo-drop]").forEach(function (form) {
      if (form.dataset.enhanced) return;
      form.dataset.enhanced = "1";
      form.classList.add("is-enhanced");
      form.querySelector("input[type=file]").multiple = true;
      var hint = form.querySelector("[data-drop-hint]");
      if (hint) hint.hidden = false;
    });
  }

  function refusalIn(html) {
    var doc = new DOMParser().parseFromString(html || "", "text/html");
    var said = doc.querySelector("[data-upload-error]");
    return said ? said.textContent.trim() : "";
  }

  function send(form, file, bar) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      data.append("alt_text", form.querySelector("[name=alt_text]").value);
      data.append("file", file, file.name);
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) bar.value = Math.round((event.loaded * 100) / event.total);
      });
      request.addEventListener("load", function () {
        resolve({ ok: request.status >= 200 && request.status < 300, status: request.status, html: request.responseText });
      });
      request.addEventListener("error", function () {
        resolve({ ok: false, status: 0, html: "" });
      });
      request.send(data);
    });
  }

  function queued(queue, file) {
    var item = document.createElement("li");
    var name = document.createElement("span");
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Uploading " + file.name);
    item.append(name, " ", bar);
    queue.append(item);
    return { item: item, bar: bar };
  }

  function uploadAll(form, files) {
    if (!files.length || form.dataset.busy) return;
    form.dataset.busy = "1";
    var button = form.querySelector("[data-upload-button]");
    if (button) button.disabled = true;
    var queue = form.querySelector("[data-upload-queue]");
    queue.textContent = "";
    var rows = files.map(function (file) { return queued(queue, file); });
    var answered = null;
    var problems = [];
    var done = files.reduce(function (previous, file, index) {
      return previous.then(function () {
        return send(form, file, rows[index].bar).then(function (result) {
          if (result.ok) {
            rows[index].bar.value = 100;
            answered = result.html;
          } else {
            var why = refusalIn(result.html) ||
              (result.status ? "The upload failed (" + result.status + ")." : "The upload was cut off: check the connection and try again.");
            problems.push(file.name + ": " + why);
            rows[index].item.classList.add("field-error");
            rows[index].item.append(" " + why);
          }
        });
      });
    }, Promise.resolve());
    done.then(function () {
      if (answered) {
        var holder = document.createElement("div");
        holder.innerHTML = answered;
        var fresh = holder.querySelector("#photos");
        document.getElementById("photos").replaceWith(fresh);
        if (window.htmx) window.htmx.process(fresh);
        enhance(fresh);
        var freshQueue = fresh.querySelector("[data-upload-queue]");
        problems.forEach(function (problem) {
          var item = document.createElement("li");
          item.className = "field-error";
          item.setAttribute("role", "alert");
          item.textContent = problem;
          freshQueue.append(item);
        });
      } else {
        delete form.dataset.busy;
        if (button) button.disabled = false;
      }
    });
  }

  function dropZone(event) {
    return event.target.closest ? event.target.closest("[data-photo-drop].is-enhanced") : null;
  }

  document.addEventListener("dragover", function (event) {
    var form = dropZone(event);
    if (!form) return;
    event.preventDefault();
    form.classList.add("is-dragging");
  });
  document.addEventListener("dragleave", function (event) {
    var form = dropZone(event);
    if (form && !form.contains(event.relatedTarget)) form.classList.remove("is-dragging");
  });
  document.addEventListener("drop", function (event) {
    var form = dropZone(event);
    if (!form) return;
    event.preventDefault();
    form.classList.remove("is-dragging");
    uploadAll(form, Array.from(event.dataTransfer.files));
  });
  document.addEventListener("change", function (event) {
    var form = dropZone(event);
    if (!form || event.target.type !== "file") return;
    uploadAll(form, Array.from(event.target.files));
    event.target.value = "";
  });
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-photo-drop].is-enhanced");
    if (!form) return;
    event.preventDefault();
    uploadAll(form, Array.from(form.querySelector("input[type=file]").files));
  });
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
})();
