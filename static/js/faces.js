// Progressive enhancement: click a face's box on the photo to choose it; the chosen box stands out.
(function () {
  var boxes = Array.prototype.slice.call(document.querySelectorAll(".landmarks .face"));
  var radios = Array.prototype.slice.call(document.querySelectorAll('input[type=radio][name=face]'));
  if (boxes.length < 2 || !radios.length) return;
  function show(index) {
    boxes.forEach(function (box) { box.classList.toggle("selected", box.dataset.face === index); });
  }
  boxes.forEach(function (box) {
    box.style.cursor = "pointer";
    box.addEventListener("click", function () {
      var radio = radios.filter(function (r) { return r.value === box.dataset.face; })[0];
      if (radio) { radio.checked = true; show(radio.value); }
    });
  });
  radios.forEach(function (radio) {
    radio.addEventListener("change", function () { show(radio.value); });
    if (radio.checked) show(radio.value);
  });
})();
