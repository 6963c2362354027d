/* Catalogue, category and search pages: filters start open on wide screens; on a phone
 * they stay folded above the results. */
(function () {
  "use strict";
  if (window.matchMedia("(min-width: 768px)").matches) {
    document.querySelectorAll("details.nongsan-filters").forEach(function (d) { d.open = true; });
  }
})();
