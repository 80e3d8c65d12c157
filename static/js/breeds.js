// Progressive enhancement: type to filter the breed grid. A breed matches by any of its names in
// either language or a common alias (data-search, written by the form), ignoring case and spaces.
(function () {
  var search = document.querySelector("[data-breed-search]");
  var grid = document.querySelector("[data-breed-grid]");
  if (!search || !grid) return;
  var empty = document.querySelector("[data-breed-empty]");
  var options = Array.prototype.slice.call(grid.querySelectorAll("label"));
  function searchForm(text) { return text.normalize("NFC").toLocaleLowerCase().replace(/\s+/g, ""); }
  var keys = options.map(function (option) {
    var input = option.querySelector("input");
    return (input && input.dataset.search) || searchForm(option.textContent);
  });
  search.hidden = false;
  search.addEventListener("input", function () {
    var query = searchForm(search.value);
    var shown = 0;
    options.forEach(function (option, index) {
      var match = !query || keys[index].indexOf(query) !== -1;
      option.hidden = !match;
      if (match) shown += 1;
    });
    empty.hidden = shown > 0;
  });
})();
