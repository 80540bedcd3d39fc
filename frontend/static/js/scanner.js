// Coupon QR scanner for the console's "Check a coupon" page.
//
// Reads a coupon's QR code (payload "LCG:<code>") with the phone camera, or from a photo,
// puts the code in the code field and submits the same form a typed code uses. Decoding
// uses the browser's BarcodeDetector when it reads QR codes (Chrome on Android), else the
// npm package barcode-detector (a ZXing WebAssembly ponyfill), loaded on first use from
// /static/vendor/ with its .wasm served by us: no CDN. Without this file the typed-code
// form still works.
(function () {
  "use strict";

  var PREFIX = "LCG:";
  // The grant code alphabet (loyalchat.rewards.codes): no 0/O, 1/I/L.
  var BARE_CODE = /^[2-9A-HJ-NP-Z]{8}$/;
  var SCAN_EVERY_MS = 200;

  var root = document.querySelector("[data-scanner]");
  if (!root) return;
  var form = document.querySelector("[data-coupon-form]");
  var input = form && form.querySelector("input[name=code]");
  var view = root.querySelector("[data-scanner-view]");
  var video = root.querySelector("[data-scanner-video]");
  var status = root.querySelector("[data-scanner-status]");
  var startButton = root.querySelector("[data-scanner-start]");
  var stopButton = root.querySelector("[data-scanner-stop]");
  var fileInput = root.querySelector("[data-scanner-file]");

  var stream = null;
  var timer = null;
  var busy = false;
  var detectorPromise = null;

  function say(key) {
    status.textContent = root.getAttribute("data-text-" + key) || "";
  }

  // The coupon code in a QR payload, or null when the QR code is something else.
  function codeFrom(raw) {
    var text = (raw || "").trim();
    if (text.toUpperCase().indexOf(PREFIX) === 0) return text.slice(PREFIX.length).trim();
    var bare = text.replace(/[\s-]/g, "").toUpperCase();
    return BARE_CODE.test(bare) ? bare : null;
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var tag = document.createElement("script");
      tag.src = src;
      tag.onload = resolve;
      tag.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(tag);
    });
  }

  function nativeDetector() {
    if (!("BarcodeDetector" in window)) return Promise.resolve(null);
    return window.BarcodeDetector.getSupportedFormats()
      .then(function (formats) {
        return formats.indexOf("qr_code") >= 0
          ? new window.BarcodeDetector({ formats: ["qr_code"] })
          : null;
      })
      .catch(function () { return null; });
  }

  function ponyfillDetector() {
    return loadScript(root.getAttribute("data-ponyfill-url")).then(function () {
      var api = window.BarcodeDetectionAPI;
      var wasmUrl = root.getAttribute("data-wasm-url");
      // Point the ZXing module at our copy of the .wasm (its default is a CDN).
      api.prepareZXingModule({
        overrides: {
          locateFile: function (path, prefix) {
            return path.slice(-5) === ".wasm" ? wasmUrl : prefix + path;
          },
        },
      });
      return new api.BarcodeDetector({ formats: ["qr_code"] });
    });
  }

  function detector() {
    if (!detectorPromise) {
      detectorPromise = nativeDetector().then(function (found) {
        return found || ponyfillDetector();
      });
    }
    return detectorPromise;
  }

  // A code was read: stop looking, fill in the field, submit like a typed code.
  function found(code) {
    stop();
    say("found");
    input.value = code;
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  function handle(results) {
    for (var i = 0; i < results.length; i++) {
      var code = codeFrom(results[i].rawValue);
      if (code) {
        found(code);
        return true;
      }
    }
    if (results.length) say("foreign");
    return false;
  }

  function tick(reader) {
    if (!stream || busy || video.readyState < 2) return;
    busy = true;
    reader.detect(video)
      .then(handle)
      .catch(function () { /* a frame that could not be read: try the next */ })
      .then(function () { busy = false; });
  }

  function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say("no-camera");
      return;
    }
    say("starting");
    var camera = navigator.mediaDevices.getUserMedia({
      video: { facingMode: { ideal: "environment" } },
      audio: false,
    });
    Promise.all([camera, detector()])
      .then(function (both) {
        stream = both[0];
        var reader = both[1];
        video.srcObject = stream;
        view.hidden = false;
        startButton.hidden = true;
        stopButton.hidden = false;
        return video.play().then(function () {
          say("scanning");
          timer = window.setInterval(function () { tick(reader); }, SCAN_EVERY_MS);
        });
      })
      .catch(function (error) {
        stop();
        say(error && error.name === "NotAllowedError" ? "denied" : "no-camera");
      });
  }

  function stop() {
    if (timer) window.clearInterval(timer);
    timer = null;
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    video.srcObject = null;
    view.hidden = true;
    startButton.hidden = false;
    stopButton.hidden = true;
  }

  // A photo of the code: for browsers that cannot open the camera (no HTTPS, old phones).
  function readPhoto() {
    var file = fileInput.files && fileInput.files[0];
    if (!file) return;
    say("starting");
    Promise.all([detector(), window.createImageBitmap(file)])
      .then(function (both) { return both[0].detect(both[1]); })
      .then(function (results) { if (!handle(results) && !results.length) say("no-code"); })
      .catch(function () { say("no-code"); })
      .then(function () { fileInput.value = ""; });
  }

  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", stop);
  if (fileInput) fileInput.addEventListener("change", readPhoto);
  window.addEventListener("pagehide", stop);

  // For tests and for other scripts: what the scanner does with a decoded payload.
  window.loyalchatScanner = { codeFrom: codeFrom, found: found };
})();
