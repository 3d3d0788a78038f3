// The page's script: keyboard sending and stopping (Enter sends with a
// keyboard, makes a new line on a touch screen), one message at a time, Stop
// in Send's place while an answer is written, waiting out the rate limit,
// clearing the box once a message is saved, errors that keep the draft, copy
// buttons, keeping the address bar on the conversation, following the answer
// as it grows (and "Jump to the newest" when the person reads above it), and
// saying so while an answer's stream reconnects. The box itself (drafts kept,
// growing, the counter) is composer.js.
(function () {
  "use strict";

  function composer() { return document.getElementById("composer"); }
  function composerError(text) { document.getElementById("composer-error").textContent = text; }

  // A phone's keyboard has no Shift+Enter: on a touch screen Enter makes a
  // new line and the Send button sends; with a mouse Enter sends.
  var touchScreen = window.matchMedia("(pointer: coarse)");
  // Whether the newest text is kept in view (below: the person has not
  // scrolled up to read).
  var following = true;

  // Every htmx request carries the page's CSRF token.
  document.addEventListener("htmx:config:request", function (event) {
    var token = document.querySelector('meta[name="csrf-token"]');
    if (token) event.detail.ctx.request.headers["X-CSRF-Token"] = token.content;
  });

  // The phone's conversation list (a <details>) folds away on Escape or a
  // tap elsewhere, as a menu does.
  function openList() { return document.querySelector("details.conversations[open]"); }

  document.addEventListener("click", function (event) {
    var list = openList();
    if (list && !list.contains(event.target)) list.open = false;
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && openList()) {
      openList().querySelector("summary").focus();
      openList().open = false;
      return;
    }
    if (event.key === "Escape") {
      var stops = document.querySelectorAll(".stop-button");
      if (stops.length) stops[stops.length - 1].click();
      return;
    }
    var box = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || touchScreen.matches) return;
    // The edit box sends as the main box does.
    var form = box.id === "message" ? composer() : box.closest && box.closest("details.edit form");
    if (!form || box.tagName !== "TEXTAREA") return;
    event.preventDefault();
    if (box.value.trim()) form.requestSubmit();
  });

  // One message at a time: while one is being sent, and while an answer is
  // being written, Send is off and Enter says why; the draft is kept. (The
  // server also saves a message once however often it is sent: send_key.)
  // While an answer is written Stop takes Send's place, where the thumb is.
  var sending = null;  // the text on its way
  var BUSY_NOTE = "An answer is still being written: wait for it, or stop it (Esc). Your message is kept.";

  function answerStreaming() {
    return document.querySelector("#transcript .message.outcome-streaming") !== null;
  }

  function refreshSend() {
    var button = composer() && composer().querySelector("button[type=submit]");
    if (!button) return;
    var streaming = answerStreaming();
    var busy = sending !== null || document.getElementById("pending-question") !== null || streaming || waiting();
    button.disabled = busy;
    button.title = busy ? "Wait for the answer to finish, or stop it (Esc)" : "";
    var stop = document.getElementById("composer-stop");
    if (stop && stop.hidden === streaming) {
      // The keyboard stays where it was: on the button that took the other's place.
      var from = streaming ? button : stop, to = streaming ? stop : button;
      var focused = document.activeElement === from;
      stop.hidden = !streaming;
      button.hidden = streaming;
      if (focused) to.focus();
    }
    var error = document.getElementById("composer-error");
    if (!streaming && error.textContent === BUSY_NOTE) composerError("");
    refreshJump();
  }

  document.addEventListener("htmx:before:request", function (event) {
    if (event.target !== composer()) return;
    if (sending !== null || answerStreaming() || waiting()) {
      event.preventDefault();
      if (sending === null && !waiting()) composerError(BUSY_NOTE);
      return;
    }
    sending = document.getElementById("message").value;
    following = true;  // a person who sends wants to see their message and its answer
    showPending(sending);
    refreshSend();
  });

  // Stop in the composer stops the newest answer as its bubble's Stop does.
  document.addEventListener("click", function (event) {
    if (!event.target.closest("#composer-stop")) return;
    var stops = document.querySelectorAll("#transcript .stop-button");
    if (stops.length) stops[stops.length - 1].click();
  });

  // Over the rate limit (429 with Retry-After), Send waits, and the page
  // says when the person can send again, counting down.
  var sendAfter = 0;  // Date.now() from which sending is allowed again
  var countdown = null;

  function waiting() { return Date.now() < sendAfter; }

  function waitBeforeSending(seconds) {
    sendAfter = Date.now() + seconds * 1000;
    clearInterval(countdown);
    countdown = setInterval(showWait, 250);
    showWait();
  }

  function showWait() {
    var note = document.getElementById("composer-wait");
    var left = Math.ceil((sendAfter - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(countdown);
      note.hidden = true;
      note.textContent = "";
    } else {
      note.hidden = false;
      note.textContent = "You can send again in " + left + " s.";
    }
    refreshSend();
  }

  // The question shows at once, marked as being sent, until the server's
  // bubbles take its place (or the send fails and the draft is still there).
  function showPending(text) {
    var bubble = document.createElement("article");
    bubble.className = "message user pending";
    bubble.id = "pending-question";
    var body = document.createElement("div");
    body.className = "text";
    body.textContent = text;
    var status = document.createElement("p");
    status.className = "stream-status";
    status.textContent = "Sending…";
    bubble.append(body, status);
    document.getElementById("transcript").appendChild(bubble);
    followAnswer();
  }

  function dropPending() {
    var bubble = document.getElementById("pending-question");
    if (bubble) bubble.remove();
  }

  // `swapping`: the server's bubbles follow (htmx swaps them after this
  // event), and take the pending one's place then (htmx:after:swap).
  function sent(event, ok, swapping) {
    if (event.target !== composer() || sending === null) return;
    var box = document.getElementById("message");
    // Only what was sent leaves the box: a draft typed meanwhile stays.
    if (ok && box.value === sending) box.value = "";
    if (!swapping) dropPending();
    sending = null;
    refreshSend();
  }

  document.addEventListener("click", function (event) {
    var copy = event.target.closest(".copy-button");
    if (copy) copyText(copy);
    // Cancel in Edit, Rename or Delete folds its form away, and the
    // keyboard goes back to what opened it.
    var cancel = event.target.closest("[data-closes=details]");
    if (cancel) {
      var details = cancel.closest("details");
      details.open = false;
      details.querySelector("summary").focus();
    }
  });

  function copyText(button) {
    var label = button.dataset.label || (button.dataset.label = button.textContent);
    var done = function (said) {
      return function () {
        button.textContent = said;
        clearTimeout(button._chatReset);
        button._chatReset = setTimeout(function () { button.textContent = label; }, 2000);
      };
    };
    navigator.clipboard.writeText(copiedText(button)).then(done("Copied"), done("Copy failed"));
  }

  // A code block's Copy gives its code; an answer's gives its markdown as
  // the model wrote it (fences, tables, lists, LaTeX), which _message.html
  // keeps as text in a <template>, as ChatGPT's Copy does.
  function copiedText(button) {
    if (button.dataset.copy === "code") return button.parentElement.querySelector("pre").textContent;
    // A shared conversation's link (_share_link.html): the address beside it.
    if (button.dataset.copy === "link") return button.parentElement.querySelector("input.share-url").value;
    return button.closest(".message").querySelector("template.answer-source").content.textContent;
  }

  function isSubscription(element) {
    return element && element.classList && element.classList.contains("subscription");
  }

  function streamStatus(subscription, text) {
    var status = subscription.closest(".message").querySelector(".stream-status");
    if (status) status.textContent = text;
  }

  // A response the app did not write (a proxy's 502 page, a crash) is never
  // swapped into the page: the request says what went wrong instead.
  document.addEventListener("htmx:after:request", function (event) {
    var status = event.detail.ctx.response.status;
    var source = event.target;
    sent(event, status < 400, status < 400 && status !== 204);
    if (status === 429 && source === composer()) {
      waitBeforeSending(parseInt(event.detail.ctx.response.headers.get("Retry-After"), 10) || 30);
    }
    if (status === 429 && isSubscription(source)) {
      // Too many windows are following answers (app/web/event_stream_limits.py):
      // this one waits its turn instead of showing the refusal in the bubble.
      event.preventDefault();
      var wait = parseInt(event.detail.ctx.response.headers.get("Retry-After"), 10) || 30;
      retrySubscription(source, wait * 1000,
        "Too many windows are following answers right now; this one tries again in " + wait + " s…");
      return;
    }
    if (status < 500) return;
    event.preventDefault();
    if (isSubscription(source)) {
      retrySubscription(source);
    } else {
      composerError("The server could not handle that (" + status + "). Nothing was lost: please try again.");
    }
  });

  // The request never got an answer (the server is down, the network is gone).
  document.addEventListener("htmx:error", function (event) {
    var source = event.target;
    sent(event, false, false);
    if (isSubscription(source)) {
      retrySubscription(source);
    } else if (source.closest && source.closest("form")) {
      composerError("The server cannot be reached. Your message is kept: try again in a moment.");
    }
  });

  // An answer's first connection failed: try again with backoff, as the SSE
  // extension itself does once a stream has opened.
  function retrySubscription(subscription, atLeast, why) {
    var attempt = (subscription._chatAttempts || 0) + 1;
    subscription._chatAttempts = attempt;
    streamStatus(subscription, why || "Reconnecting…");
    var backoff = Math.min(500 * Math.pow(2, attempt - 1), 30000);
    var delay = Math.max(backoff * (0.7 + Math.random() * 0.6), atLeast || 0);
    var timer;
    var connect = function () {
      clearTimeout(timer);
      subscription._chatRetryNow = null;
      if (!subscription.isConnected) return;
      htmx.ajax("GET", subscription.getAttribute("hx-sse:connect"), { source: subscription });
    };
    timer = setTimeout(connect, delay);
    // When the network comes back stream_health.js tries at once, unless the
    // server asked for the wait (a 429's Retry-After).
    subscription._chatRetryNow = atLeast ? null : connect;
  }

  document.addEventListener("htmx:sse:error", function (event) {
    if (isSubscription(event.target)) streamStatus(event.target, "Reconnecting…");
  });

  document.addEventListener("htmx:sse:after:connection", function (event) {
    if (!isSubscription(event.target)) return;
    event.target._chatAttempts = 0;
    streamStatus(event.target, "");
  });

  document.addEventListener("htmx:after:swap", function () {
    var id = document.getElementById("conversation-id");
    if (id && id.dataset.url && id.dataset.url !== location.pathname) {
      history.replaceState(null, "", id.dataset.url);
    }
    dropPending();
    refreshSend();
    refreshTitle();
    followAnswer();
  });

  refreshSend();

  // Copy buttons and Enter to send need this script: without it the CSS
  // keeps the buttons hidden, and the box promises nothing.
  document.documentElement.classList.add("js");
  // The box says what the keys do on the device at hand.
  function refreshPlaceholder() {
    var box = document.getElementById("message");
    if (box) box.placeholder = touchScreen.matches ? "Ask anything (Enter for a new line, Send to send)"
      : "Ask anything (Enter to send, Shift+Enter for a new line)";
  }
  refreshPlaceholder();
  touchScreen.addEventListener("change", refreshPlaceholder);

  // The tab says which conversation this is, also once a new one has its title.
  function refreshTitle() {
    var title = document.getElementById("chat-title");
    if (title) document.title = title.textContent.trim() + " · Chat";
  }

  // After Stop, Regenerate, Edit or Continue, the keyboard goes back to the box, not
  // to the page's start. As the request starts, not when it ends: Stop ends
  // the answer at once, and the answer's last event can replace its bubble
  // (the form with it) before Stop's response comes, and an event on a form
  // no longer in the page never reaches the document.
  document.addEventListener("htmx:before:request", function (event) {
    var form = event.target.closest && event.target.closest("form.stop, form.regenerate, form.continue, details.edit form");
    if (form) document.getElementById("message").focus();
  });

  // Search results by keyboard: Down goes from the box into the results, Up
  // and Down move between them (Up from the first goes back to the box), and
  // Escape goes back to the box, or empties it. Caught before the page's own
  // keys, so Escape here never stops an answer.
  document.addEventListener("keydown", function (event) {
    var box = document.getElementById("search-box");
    var inResults = event.target.closest && event.target.closest("#search-results .search-hits a");
    if (!box || (event.target !== box && !inResults)) return;
    var links = Array.prototype.slice.call(document.querySelectorAll("#search-results .search-hits a"));
    var at = links.indexOf(event.target);
    var next = null;
    if (event.key === "ArrowDown") next = links[at + 1] || null;
    else if (event.key === "ArrowUp") next = at > 0 ? links[at - 1] : (at === 0 ? box : null);
    else if (event.key === "Escape") {
      event.stopPropagation();
      if (event.target === box) { box.value = ""; document.getElementById("search-results").textContent = ""; }
      else next = box;
    }
    if (next) { event.preventDefault(); next.focus(); }
  }, true);

  // A conversation opens at its newest exchange.
  if (!location.hash) window.scrollTo(0, document.body.scrollHeight);

  // Keep the newest text in view unless the person scrolled up to read:
  // then the reading position stays, and "Jump to the newest" takes them
  // down when they want (streaming_tail.js follows the same rule).
  window.addEventListener("scroll", function () {
    following = window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
    refreshJump();
  }, { passive: true });

  function followAnswer() {
    if (following) window.scrollTo(0, document.body.scrollHeight);
  }

  function refreshJump() {
    var jump = document.getElementById("jump-to-newest");
    if (jump) jump.hidden = following || !answerStreaming();
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest("#jump-to-newest")) return;
    following = true;
    followAnswer();
    refreshJump();
    // From the keyboard (no pointer: detail 0), the keyboard goes to the box
    // rather than to the page's start with the button gone.
    if (event.detail === 0) document.getElementById("message").focus();
  });
})();
