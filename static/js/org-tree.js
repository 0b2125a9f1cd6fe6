/* The organisation tree (templates/orgs/org_tree.html): each expand control is a link to the tree
 * opened at that organisation, which works without JavaScript. Here it becomes a toggle button:
 * the first press loads the children from its data-children-url (an HTML fragment of <li>s) into
 * the list it controls; later presses hide and show that list. No inline script or style (CSP). */
(function () {
  "use strict";
  var tree = document.querySelector("[data-org-tree]");
  if (!tree || !window.fetch) { return; }

  function prepare(root) {
    root.querySelectorAll("a.tree-toggle").forEach(function (toggle) {
      toggle.setAttribute("role", "button");
    });
  }

  function load(toggle, list) {
    toggle.setAttribute("aria-busy", "true");
    fetch(toggle.getAttribute("data-children-url"), {
      headers: { "X-Requested-With": "XMLHttpRequest" }, credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      list.innerHTML = html;
      list.setAttribute("data-loaded", "1");
      prepare(list);
      list.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
    }).catch(function () {
      // The alert is inside the <li>: a list holds only list items.
      list.innerHTML = '<li class="tree-error"><span role="alert">下级组织加载失败，请再点一次或刷新页面。</span></li>';
      list.setAttribute("data-loaded", "0");
      list.hidden = false;
    }).then(function () {
      toggle.removeAttribute("aria-busy");
    });
  }

  function toggle(control) {
    var list = document.getElementById(control.getAttribute("aria-controls"));
    if (!list || control.getAttribute("aria-busy") === "true") { return; }
    var open = control.getAttribute("aria-expanded") === "true";
    if (open) {
      list.hidden = true;
      control.setAttribute("aria-expanded", "false");
    } else if (list.children.length && list.getAttribute("data-loaded") !== "0") {
      list.hidden = false;
      control.setAttribute("aria-expanded", "true");
    } else {
      load(control, list);
    }
  }

  // "显示更多下级": the next page of children takes the place of the link (an organisation
  // already drawn, the one a ?open= chain passes through, is not drawn twice).
  function more(link) {
    var item = link.closest("li");
    if (item.getAttribute("aria-busy") === "true") { return; }
    item.setAttribute("aria-busy", "true");
    fetch(link.getAttribute("href"), {
      headers: { "X-Requested-With": "XMLHttpRequest" }, credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      var holder = document.createElement("ul");
      holder.innerHTML = html;
      Array.prototype.slice.call(holder.children).forEach(function (child) {
        if (child.id && document.getElementById(child.id)) { child.remove(); }
      });
      prepare(holder);
      var first = holder.querySelector("a");
      item.replaceWith.apply(item, Array.prototype.slice.call(holder.children));
      if (first) { first.focus(); }
    }).catch(function () {
      item.removeAttribute("aria-busy");
      link.textContent = "加载失败，请再点一次";
    });
  }

  tree.addEventListener("click", function (event) {
    var moreLink = event.target.closest("a[data-tree-more]");
    if (moreLink && !event.ctrlKey && !event.metaKey && !event.shiftKey && event.button === 0) {
      event.preventDefault();
      more(moreLink);
      return;
    }
    var control = event.target.closest("a.tree-toggle");
    if (!control || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) { return; }
    event.preventDefault();
    toggle(control);
  });
  // A role="button" answers the space bar as well as Enter.
  tree.addEventListener("keydown", function (event) {
    var control = event.target.closest("a.tree-toggle");
    if (control && (event.key === " " || event.key === "Spacebar")) {
      event.preventDefault();
      toggle(control);
    }
  });
  prepare(tree);
})();
