// Progressive enhancement: poll the status endpoint, move the bar, show the latent preview, keep the
// status badge and the status line current, and reload once the generation has finished (the page
// then shows the result). Screen readers hear that one line: the place in the queue while the dog
// waits ("Waiting in the queue: number 2."), then the steps ("Step 10 of 40"; a group photo's also
// names the face: "Face 2 of 3 · Step 10 of 40"), only when it changed and at most every quarter of
// the way or at a new face, then "Your dog is ready." ("Your dogs are ready.") before the page changes.
(function () {
  var root = document.querySelector("[data-generation]");
  if (!root) return;
  var bar = root.querySelector("[data-progress]");
  var line = root.querySelector("[data-step-text]");
  var preview = root.querySelector("[data-preview]");
  var label = document.querySelector("[data-status-label]");
  var lastPreview = 0;
  var lastQuarter = -1;
  var lastFace = -1;

  function setText(element, text) {
    if (element && element.textContent !== text) { element.textContent = text; }
  }

  function announceStep(status) {
    if (status.status === "queued") {
      setText(line, status.step_text);
      return;
    }
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
      .then(function (response) {
        // A 503 (the database briefly away) says when to ask again; anything but 200 is asked again later.
        if (!response.ok) { throw new Error(response.headers.get("Retry-After") || "3"); }
        return response.json();
      })
      .then(function (status) {
        bar.max = status.steps || 1;
        bar.value = status.step;
        root.dataset.status = status.status;
        if (label) { label.className = "badge " + status.status; setText(label, status.label); }
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
      .catch(function (error) { setTimeout(poll, 1000 * (parseInt(error.message, 10) || 3)); });
  }
  setTimeout(poll, 500);
})();
