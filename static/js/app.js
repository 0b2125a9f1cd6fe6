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

  // Slow steps (checking a 10,000-row roster takes seconds): a form with data-busy="…" disables
  // its submit button, shows a spinner and says what is happening. Runs after the confirm above.
  document.addEventListener("submit", function (event) {
    var form = event.target, text = form.getAttribute("data-busy");
    if (!text) { return; }
    setTimeout(function () {
      if (event.defaultPrevented) { return; }
      var button = form.querySelector("button[type=submit]"), status = form.querySelector("[data-busy-status]");
      if (button) {
        button.disabled = true;
        button.insertAdjacentHTML("afterbegin", '<span class="spinner-border spinner-border-sm me-1" aria-hidden="true"></span>');
      }
      if (status) { status.textContent = text; status.hidden = false; }
    }, 0);
  });
  // Back-button restores from the page cache: re-enable what the handler above disabled.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-busy] button[type=submit]").forEach(function (button) {
      button.disabled = false;
      var spinner = button.querySelector(".spinner-border");
      if (spinner) { spinner.remove(); }
    });
  });
})();
