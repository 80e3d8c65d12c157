// Progressive enhancement: "select all on this page" for the ZIP download.
(function () {
  var toggle = document.querySelector("[data-select-all]");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-select]"));
  if (!toggle || !boxes.length) return;
  var all = toggle.querySelector("input");
  toggle.hidden = false;
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
  });
  boxes.forEach(function (box) {
    box.addEventListener("change", function () {
      all.checked = boxes.every(function (b) { return b.checked; });
    });
  });
})();
