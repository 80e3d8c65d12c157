// Progressive enhancement: type to filter the breed grid. A breed matches by any of its names in
// either language or a common alias (data-search, written by the form), ignoring case and spaces.
// The chosen breed is kept in sight inside the scrolling grid: on load (settings of an earlier dog)
// and whenever a choice is made for the reader (settings from a PNG, static/js/reuse.js).
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
  function showChosen() {
    var chosen = grid.querySelector("input:checked");
    if (!chosen) return;
    var option = chosen.closest("label");
    if (option.hidden) {
      search.value = "";
      search.dispatchEvent(new Event("input"));
    }
    var box = grid.getBoundingClientRect();
    var place = option.getBoundingClientRect();
    if (place.top < box.top) grid.scrollTop -= box.top - place.top;
    else if (place.bottom > box.bottom) grid.scrollTop += place.bottom - box.bottom;
  }
  grid.addEventListener("change", showChosen);
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
  showChosen();
})();
