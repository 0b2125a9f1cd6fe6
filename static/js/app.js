/* Progressive enhancement only: every page works without it. No inline scripts (CSP). */
(function () {
  "use strict";
  // Buttons that change something irreversible ask first; the text names what will happen.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();
