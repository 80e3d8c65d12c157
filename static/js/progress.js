// Progressive enhancement: poll the status endpoint, move the bar, show the latent preview, keep the
// status badge and queue line current, and reload once the generation has finished (the page then
// shows the result). Screen readers hear one line ("Step 10 of 40"; a group photo's also names the
// face: "Face 2 of 3 · Step 10 of 40"), only when it changed and at most every quarter of the way or
// at a new face, then "Your dog is ready." before the page changes.
(function () {
  var root = document.querySelector("[data-generation]");
  if (!root) return;
  var bar = root.querySelector("[data-progress]");
  var line = root.querySelector("[data-step-text]");
  var queue = root.querySelector("[data-queue]");
  var preview = root.querySelector("[data-preview]");
  var label = document.querySelector("[data-status-label]");
  var lastPreview = 0;
  var lastQuarter = -1;
  var lastFace = -1;

  function setText(element, text) {
    if (element && element.textContent !== text) { element.textContent = text; }
  }

  function announceStep(status) {
    var quarter = status.steps ? Math.floor((4 * status.step) / status.steps) : 0;
    // A group photo also says each new face ("Face 2 of 3"), in the same line.
    if (quarter !== lastQuarter || status.face !== lastFace) {
      lastQuarter = quarter;
      lastFace = status.face;
      setText(line, status.step_text);
    }
  }

  function poll() {
    fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        bar.max = status.steps || 1;
        bar.value = status.step;
        root.dataset.status = status.status;
        if (label) { label.className = "badge " + status.status; setText(label, status.label); }
        if (queue) { setText(queue, status.queue_text); queue.hidden = !status.queue_text; }
        // Only once the worker has stored a preview: no request that can only answer 404.
        if (status.preview && Date.now() - lastPreview > 1500) {
          lastPreview = Date.now();
          var img = new Image();
          img.onload = function () { preview.src = img.src; preview.hidden = false; };
          img.src = root.dataset.previewUrl + "?t=" + lastPreview;
        }
        if (status.status === "queued" || status.status === "running") {
          announceStep(status);
          setTimeout(poll, 1000);
        } else if (status.status === "succeeded") {
          // Show the full bar and say so, then the page with the result.
          bar.value = bar.max;
          setText(line, line.dataset.readyText);
          setTimeout(function () { window.location.reload(); }, 2000);
        } else {
          setTimeout(function () { window.location.reload(); }, 800);
        }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
