/* Start-up of every page rendered on Oscar's base template (templates/oscar/base.html).
 *
 * The Content-Security-Policy allows no inline script, so Oscar's "onbodyload" blocks
 * and on* attributes are not rendered: this file makes the same calls, for the pages whose
 * markup needs them, and handles data-nongsan-action="back|print|close".
 */
(function () {
  "use strict";

  // Links and buttons that used onclick="history.go(-1)", "window.print()", "window.close()".
  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-nongsan-action]") : null;
    if (!target) { return; }
    var action = target.getAttribute("data-nongsan-action");
    if (action === "back") { event.preventDefault(); window.history.back(); }
    else if (action === "print") { event.preventDefault(); window.print(); }
    else if (action === "close") { event.preventDefault(); window.close(); }
  });

  // Oscar's image upload preview (image_input_widget.html): hide the button once the
  // chosen picture shows, say so when it is not a picture. load/error do not bubble.
  document.addEventListener("load", function (event) {
    var id = event.target.getAttribute && event.target.getAttribute("data-nongsan-upload-button");
    var button = id && document.getElementById(id);
    if (button) { button.style.display = "none"; }
  }, true);
  document.addEventListener("error", function (event) {
    var img = event.target;
    var id = img.getAttribute && img.getAttribute("data-nongsan-upload-button");
    var button = id && document.getElementById(id);
    if (!button) { return; }
    button.style.display = "";
    if (img.getAttribute("src")) { window.alert(img.getAttribute("data-nongsan-error")); }
  }, true);

  if (!window.jQuery || !window.oscar) { return; }
  var $ = window.jQuery, o = window.oscar;

  function exists(selector) { return $(selector).length > 0; }

  function storefront() {
    o.init();
    if (exists("#id_sort_by") || exists(".facet_checkbox")) { o.search.init(); }
    if (exists("#basket_formset") || exists("#saved_basket_formset") || exists("#voucher_form_link")) {
      o.basket.init({basketURL: document.body.getAttribute("data-basket-url") || document.URL});
    }
    if (exists("form input[name=options]") && o.checkout) { o.checkout.gateway.init(); }
    if (exists('a[data-behaviours~="archive"]')) { o.notifications.init(); }
    if (exists(".clipboard-item") && o.customer) { o.customer.wishlists.init(); }
  }

  function dashboard() {
    var d = o.dashboard;
    // Link to a tab, and keep the tab in the address for a reload (dashboard/layout.html).
    var url = document.location.toString();
    if (url.match("#")) { $('.bs-docs-sidenav a[href="#' + url.split("#")[1] + '"]').tab("show"); }
    $(".nav-list a").on("shown.bs.tab", function (e) { window.location.hash = e.target.hash; });
    d.init({languageCode: document.documentElement.lang || "vi"});

    if (exists(".bulk-actions")) { d.bulk_actions.init(); }
    if (exists(".sub-image")) { d.product_lists.init(); }
    // A search form sent back with errors opens again (order, offer and voucher lists).
    if ($("#SearchModal").find(".is-invalid, .invalid-feedback, .error-block").length) {
      $("#SearchModal").modal("show");
    }
    if (exists("#order_detail .nav-tabs, .nav-tabs") && d.orders && /\/orders\/[^/]+\/$/.test(location.pathname)) {
      d.orders.initTabs();
    }
    if (exists("#id_max_affected_items") && exists("#id_type")) { d.offers.init(); }
    if (exists("#id_report_type")) { d.reports.init(); }
    if (exists("select[name$=option_group]") && exists("select[name$=type]")) { d.product_attributes.init(); }
    if (exists(".product_list") && /\/ranges\/\d+\/products\/$/.test(location.pathname)) {
      d.ranges.init();
      d.reordering.init({
        wrapper: ".product_list",
        submit_url: location.pathname.replace(/products\/$/, "reorder/")
      });
    }
    if (exists(".select-all-children-global") && d.product_bulk_action) {
      d.product_bulk_action.init({formBound: exists("form .is-invalid, form .alert-danger")});
    }
    // The e-mail preview of the communications page, in a frame of its own.
    var preview = document.getElementById("preview_box");
    if (preview && preview.contentWindow) {
      var doc = preview.contentWindow.document;
      doc.open(); doc.write($(preview).text()); doc.close();
    }
  }

  $(function () {
    if (o.dashboard) { dashboard(); } else { storefront(); }
  });
})();
