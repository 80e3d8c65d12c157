// Progressive enhancement: poll the status endpoint, move the bar, show the latent preview,
// and reload once the generation has finished (the page then shows the result).
(function () {
  var root = document.querySelector("[data-generation]");
  if (!root) return;
  var bar = root.querySelector("[data-progress]");
  var step = root.querySelector("[data-step]");
  var steps = root.querySelector("[data-steps]");
  var queue = root.querySelector("[data-queue]");
  var preview = root.querySelector("[data-preview]");
  var face = root.querySelector("[data-face]");
  var faces = root.querySelector("[data-faces]");
  var label = document.querySelector("[data-status-label]");
  var lastPreview = 0;

  function poll() {
    fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        bar.max = status.steps || 1;
        bar.value = status.step;
        step.textContent = status.step;
        steps.textContent = status.steps;
        if (face) { face.textContent = status.face; faces.textContent = status.faces; }
        root.dataset.status = status.status;
        if (label) { label.className = "badge " + status.status; }
        if (status.status === "running") {
          if (queue) { queue.hidden = true; }
          if (Date.now() - lastPreview > 1500) {
            lastPreview = Date.now();
            var img = new Image();
            img.onload = function () { preview.src = img.src; preview.hidden = false; };
            img.src = root.dataset.previewUrl + "?t=" + lastPreview;
          }
        }
        if (status.status === "queued" || status.status === "running") {
          setTimeout(poll, 1000);
        } else {
          // Show the full bar a moment, then the page with the result (or the failure).
          if (status.status === "succeeded") { bar.value = bar.max; step.textContent = status.steps; }
          setTimeout(function () { window.location.reload(); }, 800);
        }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
