// The sidebar: tells the server the browser's time zone (the `tz` cookie,
// for the list's Today / Yesterday headings: app/web/library/date_groups.py),
// and takes away a conversation's "writing…" marker when the answer on the
// page has ended, and a date heading left with nothing under it when its
// last conversation moved up to Today.
(function () {
  "use strict";

  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (error) {
    // No Intl time zone: the server groups by UTC's dates.
  }

  function dropFinishedMarker() {
    var id = document.getElementById("conversation-id");
    if (!id || !id.value) return;
    // An answer still being written subscribes to its stream (_message.html).
    if (document.querySelector("#transcript .subscription")) return;
    document.querySelectorAll('#conversation-list .writing[data-conversation="' + CSS.escape(id.value) + '"]')
      .forEach(function (marker) { marker.remove(); });
  }

  function dropEmptyHeadings() {
    // "Today" stays, even empty (hidden): the next conversation goes under it.
    document.querySelectorAll("#conversation-list .conversation-group:not(#group-today)").forEach(function (heading) {
      var next = heading.nextElementSibling;
      if (!next || !next.classList.contains("conversation-item")) heading.remove();
    });
  }

  document.addEventListener("htmx:after:swap", function () {
    dropFinishedMarker();
    dropEmptyHeadings();
  });
  document.addEventListener("htmx:sse:close", dropFinishedMarker);
})();
