// loyalchat console behaviour: navigation drawer, copy buttons, confirmations.
// Everything works without this file; it only makes the phone layout and a few actions nicer.
(function () {
  "use strict";

  function setNav(open) {
    var toggle = document.querySelector("[data-nav-toggle]");
    var nav = document.getElementById("sidenav");
    var backdrop = document.querySelector("[data-nav-close]");
    if (!toggle || !nav) return;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("is-open", open);
    if (backdrop) backdrop.hidden = !open;
    document.body.classList.toggle("nav-open", open);
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-nav-toggle]");
    if (toggle) {
      setNav(toggle.getAttribute("aria-expanded") !== "true");
      return;
    }
    if (event.target.closest("[data-nav-close]")) {
      setNav(false);
      return;
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var source = document.querySelector(copy.getAttribute("data-copy"));
      if (!source) return;
      // A read-only input (a link) copies its value; any other element its text.
      var text = (source.tagName === "INPUT" ? source.value : source.textContent).trim();
      var done = function () {
        var original = copy.textContent;
        copy.textContent = copy.getAttribute("data-copied-text") || "Copied";
        copy.classList.add("is-done");
        setTimeout(function () {
          copy.textContent = original;
          copy.classList.remove("is-done");
        }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
      } else {
        selectText(source);
        try { if (document.execCommand("copy")) done(); } catch (e) { /* selected: copy by hand */ }
      }
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") setNav(false);
  });

  // A form that came back with problems: its error summary takes the focus (a screen
  // reader reads it, a phone shows it), and each of its links focuses the field it names.
  function focusField(link) {
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return false;
    var details = target.closest("details");
    if (details) details.open = true;
    var box = target.closest(".field, fieldset") || target;
    // A group (a fieldset of three languages) focuses its first control.
    if (!target.matches("input, select, textarea, button")) {
      target = target.querySelector("input:not([type=hidden]), select, textarea") || target;
    }
    box.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-error-summary] a[href^='#']");
    if (link && focusField(link)) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  });

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  function selectText(node) {
    if (node.tagName === "INPUT") { node.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
})();
