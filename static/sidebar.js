// The sidebar: tells the server the browser's time zone (the `tz` cookie,
// for the list's Today / Yesterday headings: app/web/library/date_groups.py),
// and takes away a conversation's "writing…" marker when the answer on the
// page has ended.
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

  document.addEventListener("htmx:after:swap", dropFinishedMarker);
  document.addEventListener("htmx:sse:close", dropFinishedMarker);
})();
