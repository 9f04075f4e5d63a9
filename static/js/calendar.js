// Practitioner colours come from the database. The Content Security Policy
// forbids inline style attributes, so they are set here through the CSSOM.
document.querySelectorAll("[data-colour]").forEach(function (element) {
  if (/^#[0-9a-fA-F]{6}$/.test(element.dataset.colour)) {
    element.style.setProperty("--pc", element.dataset.colour);
  }
});
