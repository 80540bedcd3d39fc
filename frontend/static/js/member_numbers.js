// loyalchat console, member numbers page: the example number follows the fields as they
// are typed (letters before, digits, letters after). Without this file the page shows the
// example of the saved format; the form still works.
(function () {
  "use strict";

  var ALLOWED = /^[\p{L}\p{N}_.-]*$/u;

  function update(form) {
    var out = form.querySelector("[data-number-preview]");
    if (!out) return;
    var prefix = (form.elements.prefix.value || "").trim();
    var suffix = (form.elements.suffix.value || "").trim();
    var digits = parseInt(form.elements.digits.value, 10);
    if (!ALLOWED.test(prefix) || !ALLOWED.test(suffix) || !(digits >= 1 && digits <= 12)) {
      out.textContent = "—";
      return;
    }
    var seq = String(form.getAttribute("data-number-example") || "123");
    while (seq.length < digits) seq = "0" + seq;
    out.textContent = prefix + seq + suffix;
  }

  function init() {
    var form = document.querySelector("form[data-number-example]");
    if (!form) return;
    form.addEventListener("input", function () { update(form); });
    update(form);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
