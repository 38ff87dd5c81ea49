/* The enquiry form's only script (served from /enquiry/static/, allowed by the
   CSP's script-src 'self'). Progressive enhancement: the page works without it.

   1. Move focus to the error summary or notice when the page loads, as GOV.UK
      does, so screen reader users hear what went wrong first.
   2. When an error summary link is followed, focus the field and scroll its
      label or legend into view, not just the input. */
(function () {
  "use strict";

  var first = document.querySelector("[data-fs-focus]");
  if (first) {
    first.focus();
  }

  var summary = document.querySelector(".fs-error-summary");
  if (!summary) {
    return;
  }
  summary.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
    if (!link) {
      return;
    }
    var input = document.getElementById(link.getAttribute("href").slice(1));
    if (!input) {
      return;
    }
    event.preventDefault();
    var legend = input.closest("fieldset") && input.closest("fieldset").querySelector("legend");
    var label = document.querySelector("label[for='" + input.id + "']");
    var target = legend || label || input;
    target.scrollIntoView();
    input.focus({ preventScroll: true });
  });
})();
