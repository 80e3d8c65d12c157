// Progressive enhancement: a Copy button beside a link shown as text. Without JavaScript the text
// itself is the fallback: one click selects all of it (CSS user-select: all). Where the Clipboard API
// is missing (plain http on another host than localhost is not a secure context), the text is
// selected and the old copy command tried; failing that, the status line says to press Ctrl+C.
(function () {
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (box) {
    var text = box.querySelector("[data-copy-text]");
    var button = box.querySelector("[data-copy-button]");
    var status = box.querySelector("[data-copy-status]");

    function say(message) { status.textContent = message; }

    function selectText() {
      var range = document.createRange();
      range.selectNodeContents(text);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }

    function copyBySelection() {
      selectText();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
      say(copied ? button.dataset.copied : button.dataset.selectHint);
    }

    button.hidden = false;
    button.addEventListener("click", function () {
      var value = text.textContent.trim();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(value).then(function () { say(button.dataset.copied); }, copyBySelection);
      } else {
        copyBySelection();
      }
    });
  });
})();
