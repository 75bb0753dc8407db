// Progressive help for the error summary (forms work without it): a link of the summary puts the
// focus in its field, not just the page at it, so the subscriber can type at once.
document.addEventListener("click", function (event) {
  var link = event.target.closest(".error-summary a[href^='#']");
  if (!link) return;
  var field = document.getElementById(link.getAttribute("href").slice(1));
  if (!field) return;
  event.preventDefault();
  var label = document.querySelector("label[for='" + field.id + "']");
  (label || field).scrollIntoView();
  field.focus();
});
