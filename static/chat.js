// The page's only script: keyboard sending and stopping, clearing the box once
// an answer starts, stopping a stream, copy buttons, keeping the address bar
// on the conversation, and following the answer as it grows.
(function () {
  "use strict";

  function composer() { return document.getElementById("composer"); }

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
    // Stop: htmx posts the stop itself (hx-post on the button); here the
    // streaming request is aborted so the page stops growing at once.
    if (event.target.closest(".stop-button")) {
      document.querySelectorAll("form").forEach(function (form) { htmx.trigger(form, "htmx:abort"); });
    }
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

  // The SSE response has started: the message is saved, so the box can be emptied.
  document.addEventListener("htmx:sse:after:connection", function (event) {
    if (event.target === composer() && event.detail.connection.status === 200) {
      document.getElementById("message").value = "";
    }
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
