// Progressive enhancement: the before and after images side by side become one image with a
// slider (a native range input, so arrow keys, Home and End work) that uncovers the photo as it was.
(function () {
  var pair = document.querySelector("[data-before-after]");
  if (!pair) return;
  var images = pair.querySelectorAll("img");
  var before = images[0].cloneNode(), after = images[1].cloneNode();
  var labels = pair.querySelectorAll("figcaption");
  var frame = document.createElement("figure");
  frame.className = "compare";
  before.classList.add("compare-before");
  frame.appendChild(after);
  frame.appendChild(before);
  var slider = document.createElement("input");
  slider.type = "range";
  slider.min = "0";
  slider.max = "100";
  slider.value = "50";
  slider.setAttribute("aria-label", labels[0].textContent + " / " + labels[1].textContent);
  function show() {
    frame.style.setProperty("--cut", slider.value + "%");
    slider.setAttribute("aria-valuetext", labels[0].textContent + " " + slider.value + "%");
  }
  slider.addEventListener("input", show);
  frame.appendChild(slider);
  show();
  pair.replaceWith(frame);
})();
