// The page's only script: keyboard sending, clearing the box once an answer
// starts, keeping the address bar on the conversation, and following the answer.
(function () {
  "use strict";

  function composer() { return document.getElementById("composer"); }

  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (box.id !== "message" || event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (box.value.trim()) composer().requestSubmit();
  });

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
