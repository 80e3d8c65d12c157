// Progressive enhancement: drop or choose a PNG on the generate form; the server reads its A1111
// parameters (nothing is stored) and the form fills with them.
(function () {
  var box = document.querySelector("[data-png-reuse]");
  if (!box) return;
  var form = box.closest("form");
  var input = box.querySelector("[data-png-input]");
  var result = box.querySelector("[data-png-result]");
  box.hidden = false;

  function say(text, items) {
    result.textContent = "";
    var p = document.createElement("p");
    p.textContent = text;
    result.appendChild(p);
    if (items && items.length) {
      var list = document.createElement("ul");
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.textContent = item;
        list.appendChild(li);
      });
      result.appendChild(list);
    }
  }

  function fill(data) {
    Object.keys(data.params).forEach(function (name) {
      var field = form.elements[name];
      if (field) field.value = data.params[name];
    });
    if (data.breed) {
      var radio = form.querySelector('input[name=breed][value="' + data.breed + '"]');
      if (radio) {
        radio.checked = true;
        // static/js/breeds.js scrolls the grid to it.
        radio.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
    var advanced = form.querySelector("details.advanced");
    if (advanced) advanced.open = true;
    say(box.dataset.filled, data.ignored.length ? [box.dataset.ignored].concat(
      data.ignored.map(function (i) { return i.key + ": " + i.reason; })) : []);
  }

  function read(file) {
    var body = new FormData();
    body.append("png", file);
    body.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    fetch(box.dataset.url, { method: "POST", body: body, headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (answer) {
        if (answer.ok) fill(answer.data); else say(answer.data.error || box.dataset.failed);
      })
      .catch(function () { say(box.dataset.failed); });
  }

  input.addEventListener("change", function () { if (input.files.length) read(input.files[0]); });
  ["dragenter", "dragover"].forEach(function (name) {
    form.addEventListener(name, function (event) { event.preventDefault(); box.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    form.addEventListener(name, function () { box.classList.remove("dragging"); });
  });
  form.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer.files.length) read(event.dataTransfer.files[0]);
  });
})();
