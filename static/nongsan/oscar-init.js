/* nongsan: starts Oscar's JavaScript on the farmer's and staff pages that keep Oscar's
   theme (oscar/layout.html); a file, not an inline script, for the Content-Security-Policy. */
$(function () {
  oscar.init();
});
