// Pre-selects the browser's own IANA timezone in a <select data-browser-timezone>.
// Without JavaScript the select keeps its server-side default and the person picks.
(function () {
  "use strict";
  function preselect() {
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (error) {
      return;
    }
    if (!zone) {
      return;
    }
    document.querySelectorAll("select[data-browser-timezone]").forEach(function (select) {
      // A value the person (or a re-shown form) already chose wins over the guess.
      if (select.dataset.browserTimezone !== "unchosen") {
        return;
      }
      var match = Array.prototype.find.call(select.options, function (option) {
        return option.value === zone;
      });
      if (match) {
        select.value = zone;
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", preselect);
  } else {
    preselect();
  }
})();
