// Quick exit ("Thoát nhanh"), app/intake/exit.py: end the session with a beacon and
// replace this page in the tab's history with the target, so "Back" does not return here.
// Served as is (no build step): it is small, and every intake page loads it. Listening on
// the document keeps it working after language.js swaps the page's body.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("quick-exit")) return;
    event.preventDefault();
    try {
      navigator.sendBeacon(form.action, new FormData(form));
    } catch (e) {
      // No beacon: the target still replaces the page; the session ends when it idles out.
    }
    window.location.replace(form.dataset.target);
  });
})();
