// Progressive enhancement: drop a photo anywhere on the upload form.
(function () {
  var form = document.querySelector("[data-dropzone]");
  if (!form) return;
  var input = form.querySelector("input[type=file]");
  form.querySelector(".drop-hint").hidden = false;
  ["dragenter", "dragover"].forEach(function (name) {
    form.addEventListener(name, function (event) { event.preventDefault(); form.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    form.addEventListener(name, function () { form.classList.remove("dragging"); });
  });
  form.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", function () {
    form.querySelector("button[type=submit]").disabled = true;
  });
})();
