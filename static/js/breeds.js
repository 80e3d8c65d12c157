// Progressive enhancement: type to filter the breed grid (names are in the page's language).
(function () {
  var search = document.querySelector("[data-breed-search]");
  var grid = document.querySelector("[data-breed-grid]");
  if (!search || !grid) return;
  var empty = document.querySelector("[data-breed-empty]");
  var options = Array.prototype.slice.call(grid.querySelectorAll("label"));
  search.hidden = false;
  search.addEventListener("input", function () {
    var query = search.value.trim().toLocaleLowerCase().normalize("NFC");
    var shown = 0;
    options.forEach(function (option) {
      var match = !query || option.textContent.toLocaleLowerCase().normalize("NFC").indexOf(query) !== -1;
      option.hidden = !match;
      if (match) shown += 1;
    });
    empty.hidden = shown > 0;
  });
})();
