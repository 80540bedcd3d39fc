// Member wallet: a form marked data-once submits once, so a double tap sends one request.
// The server is idempotent anyway (the redeem form's own token); this only saves a round trip.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.getAttribute("data-sent")) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sent", "1");
    var buttons = form.querySelectorAll("button[type=submit]");
    // Disable after the submit has been taken, so the clicked button's value still goes.
    setTimeout(function () {
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    }, 0);
  });
})();

// A wallet page restored from the back-forward cache shows old balances and, on a confirm
// page, a form whose token may be spent: ask the server again (it shows what happened).
window.addEventListener("pageshow", function (event) {
  if (event.persisted) window.location.reload();
});
