// Web chat page: send messages and photos, show the conversation as it grows (polling).
// No framework, no inline script. Every text from the server goes into text nodes, so a
// message can never inject HTML; http(s) addresses become links (the wallet link).
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root) return;
  var T = JSON.parse(root.getAttribute("data-texts") || "{}");
  var token = root.getAttribute("data-token");
  var paths = {
    send: root.getAttribute("data-send"),
    photo: root.getAttribute("data-photo"),
    updates: root.getAttribute("data-updates"),
  };
  var locale = root.getAttribute("data-locale");
  var maxUpload = parseInt(root.getAttribute("data-max-upload"), 10) || 8388608;
  var list = root.querySelector(".c-list");
  var log = root.querySelector(".c-log");
  var status = root.querySelector(".c-status");
  var form = root.querySelector(".c-compose");
  var input = root.querySelector(".c-text");
  var photo = root.querySelector(".c-photo input");

  var cursor = "";
  var seen = {}; // thread item id -> true
  var pending = {}; // the page's message id -> its bubble, until the thread has it
  var FAST = 1500, SLOW = 15000, ANSWER_WAIT = 60000;
  var delay = FAST, timer = null, polling = false;
  // Until then the visitor waits for the shop's answer (a receipt is read for seconds
  // after the photo itself is back): poll fast.
  var answerBy = 0;

  function uuid() {
    // crypto.randomUUID needs a secure context; a phone on the shop's LAN may not be one.
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  var URL_RE = /https?:\/\/[^\s<>"'\u3000-\u303f\uff01-\uff5e]+/g;
  function addText(parent, text) {
    var last = 0, match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text))) {
      var url = match[0].replace(/[.,;:!?)\]]+$/, "");
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var a = document.createElement("a");
      a.href = url;
      a.textContent = url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      parent.appendChild(a);
      last = match.index + url.length;
      URL_RE.lastIndex = last;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // Whether the reader is at the newest message: a picture that loads later keeps them there.
  var stuck = true;
  log.addEventListener("scroll", function () { stuck = nearBottom(); });
  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 120;
  }
  function toBottom() {
    log.scrollTop = log.scrollHeight;
  }

  function bubble(direction) {
    var li = document.createElement("li");
    li.className = "c-msg " + (direction === "in" ? "c-in" : "c-out");
    var div = document.createElement("div");
    div.className = "c-bubble";
    li.appendChild(div);
    return li;
  }

  function render(item) {
    var li = bubble(item.direction);
    li.setAttribute("data-id", item.id);
    var div = li.firstChild;
    if (item.image) {
      var img = document.createElement("img");
      img.src = item.image;
      img.alt = T.picture || "";
      img.addEventListener("load", function () { if (stuck) toBottom(); });
      div.appendChild(img);
    }
    if (item.text) {
      var span = document.createElement("span");
      span.className = "c-caption";
      addText(span, item.text);
      div.appendChild(span);
    }
    if (item.choices && item.choices.length) {
      var box = document.createElement("div");
      box.className = "c-choices";
      item.choices.forEach(function (choice) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "c-choice";
        button.textContent = choice.title;
        button.addEventListener("click", function () {
          Array.prototype.forEach.call(box.children, function (b) { b.disabled = true; });
          button.classList.add("is-chosen");
          send({ choice: choice.id, text: choice.title }, choice.title);
        });
        box.appendChild(button);
      });
      li.appendChild(box);
    }
    return li;
  }

  function show(items) {
    var stick = nearBottom();
    items.forEach(function (item) {
      if (seen[item.id]) return;
      seen[item.id] = true;
      var li = render(item);
      var mine = item.client && pending[item.client];
      if (mine) {
        list.replaceChild(li, mine);
        delete pending[item.client];
      } else {
        list.appendChild(li);
      }
      if (item.direction !== "in") answerBy = 0;
    });
    settleChoices();
    if (stick || items.length) toBottom();
  }

  // Buttons answer the question they came with: once the visitor has said anything after
  // it (a tap, or typing), they are spent; the one whose title was said shows as chosen.
  function settleChoices() {
    var boxes = list.querySelectorAll(".c-choices");
    Array.prototype.forEach.call(boxes, function (box) {
      var next = box.parentNode.nextElementSibling;
      while (next && !next.classList.contains("c-in")) next = next.nextElementSibling;
      if (!next) return;
      var said = next.textContent.trim();
      Array.prototype.forEach.call(box.children, function (button) {
        button.disabled = true;
        if (button.textContent === said) button.classList.add("is-chosen");
      });
    });
  }

  function note(li, text, retry) {
    var old = li.querySelector(".c-note, .c-retry");
    if (old) old.remove();
    if (!text) return;
    var el = document.createElement(retry ? "button" : "p");
    el.className = retry ? "c-retry" : "c-note";
    if (retry) el.type = "button";
    el.textContent = text;
    if (retry) el.addEventListener("click", retry);
    li.appendChild(el);
  }

  function post(body, li) {
    li.classList.remove("c-failed");
    note(li, T.sending);
    return fetch(paths.send, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-webchat-token": token, accept: "application/json" },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (response.status === 429) {
        // Sending too fast: the server's words (translated), and a tap to try again.
        return response.json().catch(function () { return {}; }).then(function (json) {
          li.classList.add("c-failed");
          note(li, json.message || T.failed, function () { post(body, li); });
        });
      }
      if (!response.ok) throw new Error("HTTP " + response.status);
      note(li, "");
      soon();
    }).catch(function () {
      li.classList.add("c-failed");
      note(li, T.failed, function () { post(body, li); });
    });
  }

  // A message the visitor sent: shown at once, swapped for the stored one when it comes back.
  function send(fields, shown, li) {
    var body = { id: uuid(), locale: locale };
    for (var k in fields) body[k] = fields[k];
    if (!li) {
      li = bubble("in");
      addText(li.firstChild, shown);
      list.appendChild(li);
    }
    pending[body.id] = li;
    li.sentAt = Date.now();
    answerBy = li.sentAt + ANSWER_WAIT;
    toBottom();
    return post(body, li);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send({ text: text }, text);
    input.focus();
  });

  photo.addEventListener("change", function () {
    var file = photo.files && photo.files[0];
    photo.value = "";
    if (!file) return;
    var li = bubble("in");
    var img = document.createElement("img");
    img.alt = T.picture || "";
    img.src = URL.createObjectURL(file);
    li.firstChild.appendChild(img);
    list.appendChild(li);
    toBottom();
    if (file.size > maxUpload) {
      li.classList.add("c-failed");
      note(li, T.too_large);
      return;
    }
    upload(file, li);
  });

  function upload(file, li) {
    li.classList.remove("c-failed");
    note(li, T.sending);
    var data = new FormData();
    data.append("photo", file);
    fetch(paths.photo, {
      method: "POST",
      credentials: "same-origin",
      headers: { "x-webchat-token": token, accept: "application/json" },
      body: data,
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (response.ok && json.photo) return send({ photo: json.photo }, "", li);
        li.classList.add("c-failed");
        var again = function () { upload(file, li); };
        if (response.status === 429) note(li, json.message || T.photo_failed, again);
        else if (json.message) note(li, json.message);
        else note(li, T.photo_failed, again);
      });
    }).catch(function () {
      li.classList.add("c-failed");
      note(li, T.photo_failed, function () { upload(file, li); });
    });
  }

  // Polling: every 1.5 s while something happens, slower and slower when quiet.
  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }
  function soon() {
    delay = FAST;
    schedule(400);
  }
  // An answer is expected for a minute after sending (the message itself back, then the
  // shop's reply); after that, poll as when idle.
  function waiting() {
    var now = Date.now();
    return now < answerBy || Object.keys(pending).some(function (id) {
      return now - pending[id].sentAt < ANSWER_WAIT;
    });
  }
  function poll() {
    if (polling) return;
    polling = true;
    fetch(paths.updates + "?after=" + encodeURIComponent(cursor), {
      credentials: "same-origin",
      headers: { "x-webchat-token": token, accept: "application/json" },
      cache: "no-store",
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (json) {
      status.hidden = true;
      var items = json.items || [];
      if (typeof json.cursor === "string") cursor = json.cursor;
      show(items);
      delay = items.length || waiting() ? FAST : Math.min(delay * 1.5, SLOW);
    }).catch(function () {
      status.hidden = false;
      delay = Math.min(delay * 2, SLOW);
    }).then(function () {
      polling = false;
      schedule(document.hidden ? SLOW : delay);
    });
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) soon();
  });

  poll();
})();
