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
  if (root.getAttribute("data-viewer-zone") === zone) return;
  if (!already && stored()) {
    window.location.reload();
    return;
  }
  // A page framed by another site may keep no cookie (reloading would never end): it asks
  // for itself again with the zone in its address, which its own links then keep (once: an
  // address that already names a zone is left alone).
  if (!stored() && window.parent !== window) {
    var url = new URL(window.location.href);
    if (!url.searchParams.has("tz")) {
      url.searchParams.set("tz", zone);
      window.location.replace(url.toString());
    }
  }
})();
