// On a practitioner's own website, next to the <iframe data-estuary-embed> of their booking
// page: sets the frame's height to what the page inside reports (static/js/embedded.js), so
// the page scrolls with the site instead of inside a box. Messages from any other origin than
// the portal's (where this script came from) are ignored.
(function () {
  "use strict";
  var script = document.currentScript;
  var portal = new URL(script ? script.src : location.href).origin;
  window.addEventListener("message", function (event) {
    if (event.origin !== portal) return;
    var data = event.data;
    if (!data || data.type !== "estuary:height" || typeof data.height !== "number") return;
    document.querySelectorAll("iframe[data-estuary-embed]").forEach(function (frame) {
      if (frame.contentWindow === event.source) {
        frame.style.border = "0";
        frame.style.height = Math.max(200, Math.min(data.height, 20000)) + "px";
      }
    });
  });
})();
