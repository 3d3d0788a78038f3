// The message box: it grows with the draft up to half the screen (chat.css
// caps it, then it scrolls); the draft is kept in this browser for each
// conversation, so a reload or a visit to another conversation loses nothing,
// and it goes once the message is sent; near the server's length limit a
// counter says how much is left; and an error beside the box goes away as
// soon as the draft changes. (Sending, Stop and the rate limit: chat.js.)
(function () {
  "use strict";

  var DRAFT_KEY = "chat-draft:";  // + the conversation's id, or "new" for a new chat
  var COUNT_FROM = 0.9;  // the counter shows from this share of the limit

  function box() { return document.getElementById("message"); }

  function draftKey() {
    var id = document.getElementById("conversation-id");
    return DRAFT_KEY + ((id && id.value) || "new");
  }

  // Storage can be off or full (private windows, quotas): the draft then
  // lives only in the box, as before.
  function store(key, text) {
    try {
      if (text) localStorage.setItem(key, text);
      else localStorage.removeItem(key);
    } catch (error) { /* kept in the box only */ }
  }

  function stored(key) {
    try { return localStorage.getItem(key) || ""; } catch (error) { return ""; }
  }

  // Grows with the draft: back to its rows, then as tall as its text
  // (chat.css's max-height stops it at half the screen, where it scrolls).
  function fit() {
    var b = box();
    b.style.height = "";
    var borders = b.offsetHeight - b.clientHeight;
    if (b.scrollHeight > b.clientHeight) b.style.height = b.scrollHeight + borders + "px";
  }

  // What the server counts (app/web/message_input.py: Python's len): code
  // points, and each line break twice, since a form sends it as CR LF.
  function length(text) {
    var count = 0;
    for (var ch of text) count += ch === "\n" ? 2 : 1;
    return count;
  }

  function refreshCount() {
    var b = box(), counter = document.getElementById("composer-count");
    var limit = parseInt(b.dataset.maxChars, 10);
    if (!counter || !limit) return;
    var used = length(b.value);
    counter.hidden = used < limit * COUNT_FROM;
    // The box's description (aria-describedby): nothing while hidden.
    if (counter.hidden) { counter.textContent = ""; return; }
    var over = used - limit;
    counter.classList.toggle("over", over > 0);
    counter.textContent = used.toLocaleString("en-US") + " / " + limit.toLocaleString("en-US") + " characters" +
      (over > 0 ? ": " + over.toLocaleString("en-US") + " over the limit" : "");
  }

  function refresh() {
    fit();
    refreshCount();
  }

  document.addEventListener("input", function (event) {
    if (event.target !== box()) return;
    store(draftKey(), box().value);
    document.getElementById("composer-error").textContent = "";
    refresh();
  });

  // Sent: the draft it was goes (chat.js has emptied the box, unless more
  // was typed meanwhile, which is kept under the conversation it went to,
  // once the swap has given a new conversation its id). `sentFrom`: the key
  // as the message left.
  var sentFrom = null, keepAfterSwap = false;

  document.addEventListener("htmx:before:request", function (event) {
    if (event.target.id === "composer" && !event.defaultPrevented) sentFrom = draftKey();
  });

  document.addEventListener("htmx:after:request", function (event) {
    if (event.target.id !== "composer" || sentFrom === null) return;
    var response = event.detail.ctx.response;
    if (response && response.status < 400) {
      store(sentFrom, "");
      keepAfterSwap = true;
    }
    sentFrom = null;
    refresh();
  });

  document.addEventListener("htmx:after:swap", function () {
    if (!keepAfterSwap) return;
    keepAfterSwap = false;
    store(draftKey(), box().value);
  });

  // Signing out leaves no drafts behind in this browser.
  document.addEventListener("submit", function (event) {
    if (!event.target.matches("form.account")) return;
    try {
      for (var i = localStorage.length - 1; i >= 0; i--) {
        var key = localStorage.key(i);
        if (key && key.indexOf(DRAFT_KEY) === 0) localStorage.removeItem(key);
      }
    } catch (error) { /* nothing was kept */ }
  });

  // A draft the server gave back (a refused message, without JavaScript)
  // wins over the one kept here.
  if (box()) {
    if (!box().value) box().value = stored(draftKey());
    refresh();
  }
})();
