// Progressive enhancement: a star toggles in place (the form still works without JavaScript).
(function () {
  Array.prototype.forEach.call(document.querySelectorAll("[data-star]"), function (form) {
    var button = form.querySelector("button");
    var value = form.querySelector("[data-star-value]");
    var glyph = form.querySelector("[data-star-glyph]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin"
      })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (result) {
          button.setAttribute("aria-pressed", result.starred ? "true" : "false");
          value.value = result.starred ? "0" : "1";
          glyph.textContent = result.starred ? "★" : "☆";
        })
        .catch(function () { form.submit(); })
        .finally(function () { button.disabled = false; });
    });
  });
})();
