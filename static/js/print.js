// A print button without an inline handler (the CSP forbids inline script).
document.querySelectorAll("#print-button").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
