/* nongsan: the storefront's only script (deferred; every page works without it).
   - Filters start open on wide screens; on a phone they stay folded above the results.
   - [data-copy]: a button that copies its value (bank account, amount, transfer
     content on the VietQR page) and says so in its [data-copied] element.
   - The header's menu closes when a tap lands outside it. */
(function () {
  "use strict";
  if (window.matchMedia && window.matchMedia("(min-width: 768px)").matches) {
    document.querySelectorAll("details.nongsan-filters").forEach(function (d) { d.open = true; });
  }

  function say(button, text) {
    var target = document.getElementById(button.getAttribute("aria-describedby") || "");
    if (target) {
      target.textContent = text;
      window.setTimeout(function () { target.textContent = ""; }, 4000);
    }
  }

  function copyWithSelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }

  function copyText(text) {
    // The Clipboard API where the browser allows it, else the older selection copy.
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        if (!copyWithSelection(text)) { throw new Error("copy"); }
      });
    }
    return copyWithSelection(text) ? Promise.resolve() : Promise.reject(new Error("copy"));
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(button.getAttribute("data-copy")).then(
        function () { say(button, button.getAttribute("data-copied") || "✓"); },
        function () { say(button, button.getAttribute("data-copy-failed") || ""); }
      );
    });
  });

  var menu = document.querySelector(".ns-menu");
  if (menu) {
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) { menu.open = false; }
    });
  }
})();
