// Keyboard shortcuts for the review view: A approve, R reject, S skip (not while typing a note).
document.addEventListener("keydown", function (event) {
  if (event.target.tagName === "INPUT" || event.ctrlKey || event.metaKey || event.altKey) return;
  var button = document.querySelector('#review-form button[data-key="' + event.key.toLowerCase() + '"]');
  if (button) { event.preventDefault(); button.click(); }
});
