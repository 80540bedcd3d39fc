// loyalchat console, one conversation: the thread refreshes itself while the page is open.
// Every few seconds it asks /console/conversations/<id>/live for the messages as the page
// shows them (an HTML fragment the server renders and escapes), passing the stamp of what
// it shows; "204 No Content" means nothing changed. A new message from the customer, a
// reply, or a delivery state (sent, delivered, read, not delivered) appears without
// reloading, and the reply being typed below is never touched. Without this file the page
// is as before: reload to see what is new.
(function () {
  "use strict";

  var FAST = 3000, HIDDEN = 30000, MAX = 60000;

  function init() {
    var box = document.querySelector("[data-thread-live]");
    if (!box || !window.fetch) return;
    var url = box.getAttribute("data-thread-live");
    var stamp = box.getAttribute("data-stamp") || "";
    var delay = FAST, timer = null, busy = false, stopped = false;

    function lastVisible() {
      var items = box.querySelectorAll("[data-testid=thread-item]");
      if (!items.length) return true;
      var rect = items[items.length - 1].getBoundingClientRect();
      return rect.top < window.innerHeight && rect.bottom > 0;
    }

    function schedule(ms) {
      clearTimeout(timer);
      if (!stopped) timer = setTimeout(poll, ms);
    }

    function poll() {
      if (busy || stopped) return;
      busy = true;
      fetch(url + "?seen=" + encodeURIComponent(stamp), {
        credentials: "same-origin",
        cache: "no-store",
        headers: { accept: "text/html" },
        redirect: "manual",
      }).then(function (response) {
        if (response.status === 204) return null;
        if (response.status === 403 || response.status === 404 || response.type === "opaqueredirect") {
          stopped = true; // signed out, or no longer this shop's: the next reload says so
          return null;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        var next = response.headers.get("x-thread-stamp") || "";
        return response.text().then(function (html) {
          var follow = lastVisible();
          box.innerHTML = html;
          stamp = next;
          box.setAttribute("data-stamp", stamp);
          if (follow) {
            var latest = document.getElementById("latest");
            if (latest) latest.scrollIntoView({ block: "nearest" });
          }
        });
      }).then(function () {
        delay = FAST;
      }).catch(function () {
        delay = Math.min(delay * 2, MAX); // the server is away: ask less often
      }).then(function () {
        busy = false;
        schedule(document.hidden ? Math.max(delay, HIDDEN) : delay);
      });
    }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) schedule(0);
    });
    schedule(delay);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
