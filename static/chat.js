// The page's only script: keyboard sending and stopping, clearing the box once
// a message is saved, errors that keep the draft, copy buttons, keeping the
// address bar on the conversation, following the answer as it grows, and
// saying so while an answer's stream reconnects.
(function () {
  "use strict";

  function composer() { return document.getElementById("composer"); }
  function composerError(text) { document.getElementById("composer-error").textContent = text; }

  // Every htmx request carries the page's CSRF token.
  document.addEventListener("htmx:config:request", function (event) {
    var token = document.querySelector('meta[name="csrf-token"]');
    if (token) event.detail.ctx.request.headers["X-CSRF-Token"] = token.content;
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var stops = document.querySelectorAll(".stop-button");
      if (stops.length) stops[stops.length - 1].click();
      return;
    }
    var box = event.target;
    if (box.id !== "message" || event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (box.value.trim()) composer().requestSubmit();
  });

  document.addEventListener("click", function (event) {
    var copy = event.target.closest(".copy-button");
    if (copy) copyText(copy);
  });

  function copyText(button) {
    var source = button.dataset.copy === "code"
      ? button.parentElement.querySelector("pre")
      : button.closest(".message").querySelector(".markdown");
    var done = function (label) { return function () { button.textContent = label; }; };
    navigator.clipboard.writeText(source.innerText).then(done("Copied"), done("Copy failed"));
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
    if (status < 500) {
      if (source === composer() && status < 400) document.getElementById("message").value = "";
      return;
    }
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
    if (isSubscription(source)) {
      retrySubscription(source);
    } else if (source.closest && source.closest("form")) {
      composerError("The server cannot be reached. Your message is kept: try again in a moment.");
    }
  });

  // An answer's first connection failed: try again with backoff, as the SSE
  // extension itself does once a stream has opened.
  function retrySubscription(subscription) {
    var attempt = (subscription._chatAttempts || 0) + 1;
    subscription._chatAttempts = attempt;
    streamStatus(subscription, "Reconnecting…");
    var delay = Math.min(500 * Math.pow(2, attempt - 1), 30000) * (0.7 + Math.random() * 0.6);
    setTimeout(function () {
      if (!subscription.isConnected) return;
      htmx.ajax("GET", subscription.getAttribute("hx-sse:connect"), { source: subscription });
    }, delay);
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
    followAnswer();
  });

  // Keep the newest text in view unless the person scrolled up to read.
  var following = true;
  window.addEventListener("scroll", function () {
    following = window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
  }, { passive: true });

  function followAnswer() {
    if (following) window.scrollTo(0, document.body.scrollHeight);
  }
})();
