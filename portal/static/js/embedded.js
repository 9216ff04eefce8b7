// Inside a practitioner's site (their booking page in an <iframe>): tells the page around it
// how tall this one is, so static/js/embed.js there can size the frame. Only the height is
// sent, to whichever page frames us: the server's frame-ancestors already decides who may.
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = 0;
  function report() {
    // The content's own height (scrollHeight would never report less than the frame).
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "estuary:height", height: height, href: location.href }, "*");
  }
  document.documentElement.classList.add("embedded");
  if (window.ResizeObserver) {
    new ResizeObserver(report).observe(document.body);
  }
  window.addEventListener("load", report);
  document.addEventListener("htmx:afterSettle", report);
  report();
})();
