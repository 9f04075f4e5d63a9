// The lip chart picks the injection site: clicking (or Enter on) a point or
// zone selects it in the "Site" list, and choosing in the list highlights it.
(function () {
  var select = document.getElementById("id_site");
  var chart = document.querySelector(".lip-chart.interactive");
  if (!select || !chart) return;
  var shapes = chart.querySelectorAll("[data-site]");
  function highlight() {
    shapes.forEach(function (shape) {
      shape.classList.toggle("selected", shape.dataset.site === select.value);
    });
  }
  function choose(shape) {
    if (!Array.prototype.some.call(select.options, function (o) { return o.value === shape.dataset.site; })) return;
    select.value = shape.dataset.site;
    highlight();
    var amount = document.getElementById("id_amount");
    if (amount) amount.focus();
  }
  shapes.forEach(function (shape) {
    shape.addEventListener("click", function () { choose(shape); });
    shape.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); choose(shape); }
    });
  });
  select.addEventListener("change", highlight);
  highlight();
})();
