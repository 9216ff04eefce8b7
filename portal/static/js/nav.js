// The main menu's groups as disclosure buttons (the WAI-ARIA disclosure navigation pattern).
// Without JavaScript each group is a <details> and works as it is; here it becomes a button
// with aria-expanded that shows or hides its list, so a screen reader hears "Schedule,
// collapsed, button". One group is open at a time; Escape closes the open group (or, on a
// phone, the folded menu) and puts focus back on what opened it; a click elsewhere closes it.
(function () {
  "use strict";

  var toggles = [];

  function setOpen(toggle, open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    document.getElementById(toggle.getAttribute("aria-controls")).hidden = !open;
  }

  function closeAll(except) {
    toggles.forEach(function (toggle) {
      if (toggle !== except) {
        setOpen(toggle, false);
      }
    });
  }

  function enhance(details) {
    var summary = details.querySelector("summary");
    var list = details.querySelector("ul");
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "menu-toggle" + (summary.classList.contains("current") ? " current" : "");
    toggle.textContent = summary.textContent;
    toggle.setAttribute("aria-controls", list.id);
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      closeAll(toggle);
      setOpen(toggle, open);
    });
    details.replaceWith(toggle, list);
    toggles.push(toggle);
    setOpen(toggle, false);
  }

  function init() {
    document.querySelectorAll(".menu-bar details[data-disclosure]").forEach(enhance);
    var folded = document.querySelector("details.menu");

    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") {
        return;
      }
      var open = toggles.filter(function (t) { return t.getAttribute("aria-expanded") === "true"; });
      if (open.length) {
        closeAll(null);
        open[0].focus();
        event.preventDefault();
      } else if (folded && folded.open && folded.contains(document.activeElement)) {
        var summary = folded.querySelector("summary");
        if (summary.offsetParent !== null) { // the phone's "Menu" button is showing
          folded.open = false;
          summary.focus();
          event.preventDefault();
        }
      }
    });

    document.addEventListener("click", function (event) {
      if (!event.target.closest(".menu-group")) {
        closeAll(null);
      }
    });

    // Tabbing out of an open group closes it, as a menu that lost the keyboard would.
    document.addEventListener("focusin", function (event) {
      toggles.forEach(function (toggle) {
        var group = toggle.parentElement;
        if (toggle.getAttribute("aria-expanded") === "true" && !group.contains(event.target)) {
          setOpen(toggle, false);
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
