// loyalchat console, loyalty pages: show the option fields of the reward type chosen.
// Without this file the server shows the saved type's fields; the form still works.
(function () {
  "use strict";

  function sync(select) {
    var scope = select.closest("form") || document;
    var groups = scope.querySelectorAll(select.getAttribute("data-toggles"));
    for (var i = 0; i < groups.length; i++) {
      groups[i].classList.toggle("is-selected", groups[i].getAttribute("data-type") === select.value);
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-toggles]")) sync(event.target);
  });
})();
