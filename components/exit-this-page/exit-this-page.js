/*
 * Quick exit: leave this site in one click, one tap, or by pressing Shift
 * three times. Without this script the exit links still go to the neutral
 * site; the script makes leaving faster and safer:
 *  - the page is hidden and its title neutralised at once, before the new
 *    page loads, so nobody glancing at the screen sees it;
 *  - location.replace() takes this page out of the back button's history;
 *  - nothing of ours is left in localStorage or sessionStorage.
 * It does not and cannot erase the rest of the browser history. The safety
 * page explains this. Its words come from the markup's data-i18n-* attributes
 * (messages.json), so they are written once.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-qe]");
  if (!root) return;

  var SHIFT_PRESSES = 3;
  var SHIFT_WINDOW_MS = 5000;
  var status = root.querySelector("[data-qe-status]");
  var words = root.dataset;
  var originalTitle = document.title;
  var shiftCount = 0;
  var shiftTimer = null;
  var overlay = null;

  function destination() {
    // The links' href is the single source of the destination (mkdocs.yml extra.exit_url,
    // or the enquiry service's exit route, which also ends the form session).
    var link = root.querySelector("[data-qe-link]");
    return link ? link.href : root.getAttribute("data-qe-url");
  }

  function forgetStorage() {
    try { window.localStorage.clear(); } catch (e) { /* storage may be disabled */ }
    try { window.sessionStorage.clear(); } catch (e) { /* storage may be disabled */ }
  }

  function announce(text) {
    if (status) status.textContent = text;
  }

  function resetShift() {
    shiftCount = 0;
    if (shiftTimer) window.clearTimeout(shiftTimer);
    shiftTimer = null;
  }

  function exitPage(event) {
    if (event) event.preventDefault();
    resetShift();
    document.documentElement.classList.add("qe-exiting");
    document.title = words.i18nLoadingTitle;
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.className = "qe-overlay";
      overlay.setAttribute("role", "alert");
      overlay.textContent = words.i18nLoading;
    }
    document.body.appendChild(overlay);
    forgetStorage();
    window.location.replace(destination());
  }

  function restorePage() {
    // Coming back from the back/forward cache: never leave a blank "ghost" page.
    document.documentElement.classList.remove("qe-exiting");
    document.title = originalTitle;
    if (overlay && overlay.parentNode) overlay.parentNode.removeChild(overlay);
    resetShift();
    announce("");
  }

  var links = root.querySelectorAll("[data-qe-link]");
  for (var i = 0; i < links.length; i++) {
    links[i].addEventListener("click", exitPage);
  }

  // On-screen keyboards (iOS among them) send Shift events of their own while
  // someone types; counting those could throw away a half-written message.
  // So on touch-first devices, Shift presses inside a text field do not count:
  // there the button is the way out.
  var touchFirst = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
  function typingOnScreenKeyboard(event) {
    // The element itself, also inside a shadow root (Zensical's search box), where
    // event.target is only the shadow root's host.
    var target = event.composedPath ? event.composedPath()[0] : event.target;
    return touchFirst && target && (target.isContentEditable ||
      /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener("keydown", function (event) {
    if (typingOnScreenKeyboard(event)) return;
    if (event.key !== "Shift") {
      // Shift used with another key (capital letters) or any other key: start again.
      if (shiftCount > 0) resetShift();
      return;
    }
    if (event.repeat) return; // holding Shift down is one press
    shiftCount += 1;
    if (shiftCount >= SHIFT_PRESSES) {
      exitPage();
      return;
    }
    var left = SHIFT_PRESSES - shiftCount;
    announce(left === 1 ? words.i18nPressOneMore : words.i18nPressMore.replace("{count}", String(left)));
    if (shiftTimer) window.clearTimeout(shiftTimer);
    shiftTimer = window.setTimeout(function () {
      resetShift();
      announce(words.i18nExpired);
    }, SHIFT_WINDOW_MS);
  }, true);

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) restorePage();
  });
  // Material keeps small things (like search state) in storage; leave none behind.
  window.addEventListener("pagehide", forgetStorage);
})();
