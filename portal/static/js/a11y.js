// Focus for the parts htmx swaps in. Without JavaScript every swap is a whole page and the
// browser places focus itself; with it, focus would fall to <body> whenever the focused
// link or button is replaced, so here it goes somewhere meaningful instead:
//  - the calendar's session form opens as a modal <dialog> (showModal: focus moves in and
//    stays in, the page behind is inert, Esc closes); when it closes, or the calendar comes
//    back after a save, focus returns to what opened it;
//  - a swap that shows field errors focuses the first invalid field;
//  - any other swap that took focus away focuses the new region's marked focus target
//    ([data-swap-focus]) or its first heading.
// What a swap did is announced by the live region in base.html (fragment_flashes); after a
// boosted form (hx-boost swaps the whole body) the new region's flashes are put in again.
(function () {
  "use strict";

  var SLOT = "dialog-slot";
  var FIELDS = "input:not([type=hidden]), select, textarea";
  // How long the new live region stays empty before its flashes go back in: long enough for
  // screen readers to register the region, short enough not to be seen as a flicker.
  var ANNOUNCE_DELAY_MS = 150;
  var opener = null; // what opened the session dialog

  function focusOn(element) {
    if (!element) {
      return false;
    }
    if (!element.matches("a[href], button, " + FIELDS) && !element.hasAttribute("tabindex")) {
      element.setAttribute("tabindex", "-1"); // a heading takes focus only from script
    }
    element.focus();
    return document.activeElement === element; // a hidden element (a closed <details>) refuses
  }

  // The opener, or what stands for it once its region was drawn again: the same id, else a
  // link to the same place (the first one that can take focus).
  function openerNow() {
    if (!opener || opener.isConnected) {
      return opener ? [opener] : [];
    }
    var href = opener.getAttribute("href");
    var same = href ? document.querySelectorAll('a[href="' + CSS.escape(href) + '"]') : [];
    return [opener.id && document.getElementById(opener.id)].concat(Array.from(same));
  }

  function returnFocus(fallback) {
    var candidates = openerNow();
    opener = null;
    if (!candidates.some(focusOn)) {
      focusOn(fallback);
    }
  }

  function showDialog(dialog) {
    if (!dialog.open) {
      dialog.showModal();
    }
    focusOn(dialog.querySelector("[aria-invalid=true]") || dialog.querySelector(FIELDS));
  }

  // A region that arrives already holding its text is not read out; a change inside one
  // that is in place is. So the flashes a boosted swap brought leave and come back.
  function announceFlashes() {
    var live = document.getElementById("flash-region");
    if (!live || !live.childElementCount) {
      return;
    }
    var flashes = Array.from(live.childNodes);
    live.replaceChildren();
    setTimeout(function () {
      if (live.isConnected && !live.childElementCount) {
        live.replaceChildren.apply(live, flashes);
      }
    }, ANNOUNCE_DELAY_MS);
  }

  function focusLost(region) {
    var active = document.activeElement;
    return !active || active === document.body || !active.isConnected || !region.contains(active);
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    var slot = document.getElementById(SLOT);
    // A post from inside the dialog (its errors come back into it) keeps the first opener.
    if (target && target.id === SLOT && !(slot && slot.contains(event.detail.elt))) {
      opener = event.detail.elt;
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var region = event.target;
    if (!(region instanceof Element) || region.closest("#flash-region")) {
      return;
    }
    if (region === document.body) {
      announceFlashes();
    }
    var dialog = region.id === SLOT ? region.querySelector("dialog") : null;
    if (dialog) {
      showDialog(dialog);
      return;
    }
    var heading = region.querySelector("[data-swap-focus]") || region.querySelector("h1, h2, h3");
    if (opener && !document.querySelector("#" + SLOT + " dialog")) {
      returnFocus(heading); // the calendar came back after a save or Close
      return;
    }
    var invalid = region.querySelector("[aria-invalid=true]");
    if (invalid) {
      focusOn(invalid);
    } else if (focusLost(region)) {
      focusOn(heading);
    }
  });

  // Esc (or dialog.close()) closes the modal: drop it and give focus back.
  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (dialog instanceof HTMLDialogElement && dialog.parentElement && dialog.parentElement.id === SLOT) {
      dialog.remove();
      returnFocus(document.querySelector("#main h1"));
    }
  }, true);
})();
