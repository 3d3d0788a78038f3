// An answer's event stream that heals at once, and an answer whose writer
// died that keeps what was shown.
//
// htmx's SSE extension (hx-sse-4.0.1.min.js) reconnects a stream that fails
// or ends, with backoff, sending Last-Event-ID. What it cannot see is a
// connection that goes silent without failing (a frozen network, a NAT that
// forgot the flow): nothing arrives and nothing errors. The server says
// something at least every heartbeat period (data-heartbeat-seconds; a named
// `heartbeat` event, because the extension drops SSE comments before any
// script sees them), so two periods of silence mean the connection is gone:
// the bubble says "Reconnecting…" and the stream is reopened from where the
// page is. When the network comes back (online, the tab shown again, the page
// restored from the back-forward cache) a stream that is down or waiting out
// its backoff reopens at once.
//
// The extension's state is read from the element (`_htmx.sse`: its reader,
// and `delayCanceller` while it waits to reconnect), pinned to htmx 4.0.1.
(function () {
  "use strict";

  var RECONNECTING = "Reconnecting…";
  // A reconnect's headers may take a while: the server first waits (up to
  // 5 s) for the database to catch up with a page that is ahead of it
  // (app/answers/subscription.py, _saved_up_to).
  var HEADERS_WITHIN_MS = 10000;

  function isSubscription(element) {
    return element && element.classList && element.classList.contains("subscription");
  }

  function heartbeatMs(subscription) {
    return (parseFloat(subscription.dataset.heartbeatSeconds) || 15) * 1000;
  }

  function connectionOf(subscription) {
    return subscription._htmx && subscription._htmx.sse;
  }

  function say(subscription, text) {
    var status = subscription.closest(".message").querySelector(".stream-status");
    if (status) status.textContent = text;
  }

  // --- a connection that went silent -----------------------------------------

  function heard(subscription) {
    subscription._healthHeard = performance.now();
    if (!subscription._healthTimer) watch(subscription, 2 * heartbeatMs(subscription));
  }

  function watch(subscription, delay) {
    subscription._healthTimer = setTimeout(function () {
      subscription._healthTimer = null;
      var connection = connectionOf(subscription);
      // Not reading (waiting to reconnect, paused in the background, closed):
      // the next connection starts the watch again.
      if (!subscription.isConnected || !connection || !connection.reader) return;
      var limit = 2 * heartbeatMs(subscription);
      var silent = performance.now() - subscription._healthHeard;
      if (silent < limit) watch(subscription, limit - silent);
      else reopen(subscription, connection);
    }, delay);
  }

  // The extension reconnects a stream whose reader ends; Last-Event-ID picks
  // up where the page is, and `_healNow` skips the backoff.
  function reopen(subscription, connection) {
    say(subscription, RECONNECTING);
    subscription._healNow = true;
    connection.reader.cancel().catch(function () {});
  }

  document.addEventListener("htmx:sse:before:connection", function (event) {
    var subscription = event.target;
    if (!isSubscription(subscription)) return;
    var connection = event.detail.connection;
    // A reconnect that hangs before its headers (a network still frozen) is
    // given up and tried again, as a silent one is.
    connection.config.connectTimeout = Math.max(2 * heartbeatMs(subscription), HEADERS_WITHIN_MS);
    if (subscription._healNow) {
      subscription._healNow = false;
      // The extension sets delayCanceller right after this event, before it
      // first waits: by the time this runs the backoff has begun, and ends now.
      Promise.resolve().then(function () {
        if (connection.delayCanceller) connection.delayCanceller();
      });
    }
  });

  document.addEventListener("htmx:sse:after:connection", function (event) {
    var subscription = event.target;
    if (!isSubscription(subscription)) return;
    subscription._healNow = false;
    heard(subscription);
    shownFrom(subscription);
  });

  document.addEventListener("htmx:sse:before:message", function (event) {
    var subscription = event.target;
    if (!isSubscription(subscription)) return;
    heard(subscription);
    var id = parseInt(event.detail.message.id, 10);
    var shown = shownAnswers.get(subscription);
    if (shown && id >= 0) shown.length = id;  // a piece's id is the answer's length after it
  });

  // --- the network is back ----------------------------------------------------

  function reopenNow(restartReading) {
    document.querySelectorAll(".subscription").forEach(function (subscription) {
      if (subscription._chatRetryNow) {  // chat.js: a first connection that failed
        say(subscription, RECONNECTING);
        subscription._chatRetryNow();
        return;
      }
      var connection = connectionOf(subscription);
      if (!connection) return;
      if (connection.delayCanceller) {  // waiting out its backoff
        say(subscription, RECONNECTING);
        connection.delayCanceller();
      } else if (!connection.reader) {  // paused in the background, or connecting
        subscription._healNow = true;
      } else if (restartReading) {
        reopen(subscription, connection);
      }
    });
  }

  window.addEventListener("online", function () { reopenNow(false); });
  // (Registered before the extension's own handler, which then resumes a
  // stream paused in the background: its reconnect skips the backoff.)
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) reopenNow(false);
  });
  // A page restored from the back-forward cache: its connections are gone.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) reopenNow(true);
  });

  // --- nothing that was on screen disappears ------------------------------------
  //
  // When the process writing an answer dies, what it had not yet saved (at
  // most one checkpoint, CHAT_CHECKPOINT_SECONDS) is lost, and the answer's
  // final rendering, "interrupted", is made from what was saved: shorter than
  // what this page showed. The page keeps the longer text it showed, and says
  // that its end was not saved (a reload shows the saved part). The server
  // never takes text back from a page: a page could say anything.

  var shownAnswers = new Map();  // subscription -> {article, length}

  function shownFrom(subscription) {
    if (shownAnswers.has(subscription)) return;
    var url = new URL(subscription.getAttribute("hx-sse:connect"), location.href);
    shownAnswers.set(subscription, {
      article: subscription.closest(".message"),
      length: parseInt(url.searchParams.get("offset"), 10) || 0,
    });
  }

  // Runs after every swap htmx processes: the final rendering replaces the
  // streaming bubble (outerHTML), which is then no longer in the page.
  document.addEventListener("htmx:after:process", function () {
    shownAnswers.forEach(function (shown, subscription) {
      if (shown.article.isConnected) return;
      shownAnswers.delete(subscription);
      var final = document.getElementById(shown.article.id);
      if (final) keepWhatWasShown(shown, final);
    });
  });

  function codePoints(text) {
    return Array.from(text).length;  // as the server counts (the event ids)
  }

  function keepWhatWasShown(shown, final) {
    if (!final.classList.contains("outcome-interrupted")) return;
    var source = final.querySelector("template.answer-source");
    var saved = source ? codePoints(source.content.textContent) : 0;
    var markdown = final.querySelector(".markdown");
    var blocks = shown.article.querySelector(".markdown");
    var tail = shown.article.querySelector(".text");
    if (shown.length <= saved || !markdown || !blocks || !tail) return;
    // The finished blocks, then the unfinished one as it was shown:
    // formatted by streaming_tail.js, or as the plain text that came.
    var kept = Array.from(blocks.childNodes);
    var formatted = tail.nextElementSibling;
    if (tail.hidden && formatted && formatted.classList.contains("streaming-tail")) {
      kept = kept.concat(Array.from(formatted.childNodes));
    } else {
      tail.removeAttribute("id");
      kept.push(tail);
    }
    markdown.replaceChildren.apply(markdown, kept);
    var notice = final.querySelector(".notice") || final.insertBefore(document.createElement("p"), final.querySelector(".actions"));
    notice.classList.add("notice");
    var unsaved = document.createElement("span");
    unsaved.className = "unsaved";
    unsaved.textContent = " Its last " + (shown.length - saved) + " characters were shown here but not saved: " +
      "a reload shows the answer without them.";
    notice.insertBefore(unsaved, notice.querySelector(".reference"));
  }
})();
