// A visitor's timezone from the browser, for the server to show times in: written to the
// `tz` cookie, and the page reloaded once if it was rendered in another zone. A zone the
// visitor picked in the select (data-zone-chosen) wins over the browser's.
(function () {
  var root = document.documentElement;
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone || root.hasAttribute("data-zone-chosen")) return;
  function stored() {
    return document.cookie.split("; ").indexOf("tz=" + zone) !== -1;
  }
  var already = stored();
  document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  // A page framed by another site may not keep the cookie: reloading would never end.
  if (!already && stored() && root.getAttribute("data-viewer-zone") !== zone) {
    window.location.reload();
  }
})();
