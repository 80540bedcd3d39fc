// loyalchat console, one receipt under review: zoom the photo (buttons, pinch, Ctrl+wheel,
// drag to move) and the desktop shortcuts (a approve, r reject, j/k next/previous, ? help).
// The OCR boxes are an SVG inside the zoomed layer, so they stay on the words they mark.
// Without this file the page still works: the photo fits the column and the forms post.
(function () {
  "use strict";

  var MIN = 1, MAX = 6;

  function zoomer(frame) {
    var layer = frame.querySelector("[data-zoom-layer]");
    if (!layer) return null;
    var scale = 1, x = 0, y = 0;
    var pointers = new Map();
    var pinch = null, drag = null;

    function clamp() {
      var w = frame.clientWidth, h = layer.offsetHeight;
      var fh = frame.clientHeight;
      x = Math.min(0, Math.max(w - w * scale, x));
      y = Math.min(0, Math.max(Math.min(fh - h * scale, 0), y));
    }
    function apply() {
      clamp();
      layer.style.transform = "translate(" + x + "px," + y + "px) scale(" + scale + ")";
      frame.setAttribute("data-scale", scale.toFixed(2));
      frame.classList.toggle("is-zoomed", scale > 1);
    }
    // Zoom to ``next`` keeping the point (px, py) of the frame where it is.
    function zoomAt(next, px, py) {
      next = Math.min(MAX, Math.max(MIN, next));
      x = px - (px - x) * (next / scale);
      y = py - (py - y) * (next / scale);
      scale = next;
      apply();
    }
    function centre() {
      return [frame.clientWidth / 2, Math.min(frame.clientHeight, layer.offsetHeight) / 2];
    }
    function local(event) {
      var rect = frame.getBoundingClientRect();
      return [event.clientX - rect.left, event.clientY - rect.top];
    }

    frame.addEventListener("wheel", function (event) {
      if (!event.ctrlKey && scale === 1) return; // let the page scroll
      event.preventDefault();
      var at = local(event);
      zoomAt(scale * Math.exp(-event.deltaY * 0.0025), at[0], at[1]);
    }, { passive: false });

    frame.addEventListener("pointerdown", function (event) {
      frame.setPointerCapture(event.pointerId);
      pointers.set(event.pointerId, local(event));
      if (pointers.size === 2) {
        var p = Array.from(pointers.values());
        pinch = { d: Math.hypot(p[0][0] - p[1][0], p[0][1] - p[1][1]), scale: scale };
        drag = null;
      } else if (pointers.size === 1) {
        drag = { at: local(event), x: x, y: y };
        frame.classList.add("is-dragging");
      }
    });
    frame.addEventListener("pointermove", function (event) {
      if (!pointers.has(event.pointerId)) return;
      pointers.set(event.pointerId, local(event));
      if (pinch && pointers.size === 2) {
        var p = Array.from(pointers.values());
        var d = Math.hypot(p[0][0] - p[1][0], p[0][1] - p[1][1]);
        if (pinch.d > 0) zoomAt(pinch.scale * d / pinch.d, (p[0][0] + p[1][0]) / 2, (p[0][1] + p[1][1]) / 2);
      } else if (drag && scale > 1) {
        var at = local(event);
        x = drag.x + at[0] - drag.at[0];
        y = drag.y + at[1] - drag.at[1];
        apply();
      }
    });
    function release(event) {
      pointers.delete(event.pointerId);
      if (pointers.size < 2) pinch = null;
      if (pointers.size === 0) { drag = null; frame.classList.remove("is-dragging"); }
    }
    frame.addEventListener("pointerup", release);
    frame.addEventListener("pointercancel", release);
    frame.addEventListener("dblclick", function (event) {
      var at = local(event);
      if (scale > 1) { scale = 1; x = 0; y = 0; apply(); } else { zoomAt(2.5, at[0], at[1]); }
    });

    return {
      zoomIn: function () { var c = centre(); zoomAt(scale * 1.5, c[0], c[1]); },
      zoomOut: function () { var c = centre(); zoomAt(scale / 1.5, c[0], c[1]); },
      reset: function () { scale = 1; x = 0; y = 0; apply(); },
    };
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function init() {
    var frame = document.querySelector("[data-zoom-frame]");
    var zoom = frame ? zoomer(frame) : null;
    if (zoom) {
      document.addEventListener("click", function (event) {
        if (event.target.closest("[data-zoom-in]")) zoom.zoomIn();
        else if (event.target.closest("[data-zoom-out]")) zoom.zoomOut();
        else if (event.target.closest("[data-zoom-reset]")) zoom.reset();
      });
    }
    var review = document.querySelector("[data-receipt-review]");
    var help = document.getElementById("shortcuts");
    var busy = false;
    document.addEventListener("submit", function (event) {
      // One decision per page: a second press while the first is on its way does nothing.
      if (event.target.closest(".decide-form")) {
        if (busy) event.preventDefault();
        busy = true;
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      if (help && help.open && event.key !== "?") return;
      var key = event.key;
      if (key === "?") {
        if (!help) return;
        if (help.open) help.close(); else help.showModal();
      } else if (key === "j" && review && review.getAttribute("data-next")) {
        window.location.href = review.getAttribute("data-next");
      } else if (key === "k" && review && review.getAttribute("data-prev")) {
        window.location.href = review.getAttribute("data-prev");
      } else if (key === "a") {
        var approve = document.getElementById("approve-form");
        if (!approve) return;
        if (approve.requestSubmit) approve.requestSubmit(); else approve.submit();
      } else if (key === "r") {
        var reason = document.getElementById("reject-reason");
        if (!reason) return;
        reason.scrollIntoView({ block: "center" });
        reason.focus();
      } else if (zoom && (key === "+" || key === "=")) {
        zoom.zoomIn();
      } else if (zoom && key === "-") {
        zoom.zoomOut();
      } else if (zoom && key === "0") {
        zoom.reset();
      } else {
        return;
      }
      event.preventDefault();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
