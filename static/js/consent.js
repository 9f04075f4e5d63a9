// The consent signature pad (signature_pad, vendored). Mouse, pen and touch
// all arrive as pointer events. The drawing is sent as a PNG data URL; the
// server checks it is a real, non-blank image of sensible size.
(function () {
  var canvas = document.getElementById("signature-pad");
  if (!canvas || typeof SignaturePad === "undefined") return;
  var pad = new SignaturePad(canvas, { penColor: "#1a1a2e", minWidth: 0.8, maxWidth: 2.6 });

  function fit() {
    // Match the canvas to its box at the screen's pixel density, keeping any
    // drawing (resizing a canvas clears it).
    var data = pad.toData();
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    pad.fromData(data);
  }
  window.addEventListener("resize", fit);
  fit();

  document.getElementById("signature-clear").addEventListener("click", function () {
    pad.clear();
  });
  document.getElementById("consent-form").addEventListener("submit", function () {
    document.getElementById("id_signature").value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
  });
})();
