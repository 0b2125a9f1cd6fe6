/* Organisation pickers of filter forms (orgs/fields.py): the search box beside the short select
 * suggests organisations as one types, from its data-org-suggest URL (JSON), into its <datalist>.
 * A suggestion reads "名称（编码）", which the server resolves by the code. Choosing in the select
 * empties the box, since a typed name takes precedence. Without JavaScript the box still works:
 * the server matches the text on submit. No inline script or style (CSP). */
(function () {
  "use strict";
  if (window.orgPickerReady || !window.fetch) { return; }
  window.orgPickerReady = true;
  var DELAY = 250;

  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var select = input.closest(".org-picker").querySelector("[data-org-picker-select]");
    var timer = null, last = "";
    if (select) {
      select.addEventListener("change", function () { input.value = ""; });
    }
    input.addEventListener("input", function () {
      var q = input.value.trim();
      clearTimeout(timer);
      if (!q || q === last || q.indexOf("（") !== -1) { return; }
      timer = setTimeout(function () {
        last = q;
        var url = input.getAttribute("data-org-suggest") + "&q=" + encodeURIComponent(q);
        fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) {
            if (input.value.trim() !== q) { return; }
            list.textContent = "";
            data.results.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.value;
              option.label = item.label;
              list.appendChild(option);
            });
          })
          .catch(function () { /* suggestions are a convenience; the server still matches the text */ });
      }, DELAY);
    });
  }

  function init() {
    document.querySelectorAll("input[data-org-suggest]").forEach(attach);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
