// Progressive enhancement of the lineup page: poll every dog's status at once, move each bar, swap in
// each picture as it is ready (no reload, so stars and focus stay put), and stop when none is left to
// make. Screen readers hear one line when every dog has finished. Without JavaScript the page reloads.
(function () {
  var root = document.querySelector("[data-lineup]");
  if (!root) return;
  var announce = document.querySelector("[data-lineup-announce]");

  function setText(element, text) {
    if (element && element.textContent !== text) { element.textContent = text; }
  }

  function update(tile, dog) {
    var bar = tile.querySelector("[data-dog-bar]");
    tile.dataset.status = dog.status;
    var label = tile.querySelector("[data-dog-label]");
    label.className = "badge " + dog.status;
    setText(label, dog.label);
    bar.max = dog.steps || 1;
    bar.value = dog.step;
    setText(tile.querySelector("[data-dog-step]"), dog.step_text);
    tile.querySelector("[data-dog-progress]").hidden = dog.status !== "queued" && dog.status !== "running";
    var error = tile.querySelector("[data-dog-error]");
    setText(error, dog.error || "");
    error.hidden = !dog.error;
    var picture = tile.querySelector("[data-dog-picture]");
    if (dog.thumbnail && !picture.querySelector("img")) {
      var img = new Image(320, 320);
      img.className = "dog";
      img.alt = picture.dataset.alt;
      img.onload = function () { picture.replaceChildren(img); };
      img.src = dog.thumbnail;
    }
  }

  function poll() {
    fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (lineup) {
        var active = 0;
        lineup.dogs.forEach(function (dog) {
          var tile = root.querySelector('[data-dog="' + dog.id + '"]');
          if (tile) { update(tile, dog); }
          if (dog.status === "queued" || dog.status === "running") { active += 1; }
        });
        if (active) {
          setTimeout(poll, 1000);
        } else {
          setText(announce, announce.dataset.readyText);
        }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
