/* Card payment page: mounts Stripe's Payment Element and confirms the PaymentIntent.
   Stripe.js (https://js.stripe.com/v3/) is loaded by the page before this file. The order
   is marked paid only by Stripe's webhook on the server; this script never decides it. */
(function () {
  "use strict";

  var form = document.getElementById("nongsan-card-form");
  if (!form) {
    return;
  }
  var fallback = document.getElementById("nongsan-card-fallback");
  var message = document.getElementById("nongsan-card-message");
  var button = document.getElementById("nongsan-card-submit");
  var data = form.dataset;

  function show(text) {
    message.textContent = text || data.errorGeneric;
    message.hidden = false;
  }

  if (typeof window.Stripe !== "function") {
    return; // Stripe.js did not load: the fallback message stays visible.
  }

  var stripe = window.Stripe(data.publishableKey, { locale: data.locale || "vi" });
  var elements = stripe.elements({ clientSecret: data.clientSecret });
  var payment = elements.create("payment");
  payment.on("ready", function () {
    if (fallback) {
      fallback.hidden = true;
    }
    button.hidden = false;
  });
  payment.mount("#nongsan-card-element");

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (button.disabled) {
      return;
    }
    button.disabled = true;
    message.hidden = true;
    stripe
      .confirmPayment({
        elements: elements,
        confirmParams: { return_url: data.returnUrl },
        redirect: "if_required",
      })
      .then(function (result) {
        if (result.error) {
          show(result.error.message);
          button.disabled = false;
          return;
        }
        // No bank redirect was needed: come back to the page, which shows what Stripe says.
        var status = result.paymentIntent ? result.paymentIntent.status : "";
        var separator = data.returnUrl.indexOf("?") === -1 ? "?" : "&";
        window.location.assign(
          data.returnUrl + separator + "redirect_status=" + encodeURIComponent(status)
        );
      })
      .catch(function () {
        show();
        button.disabled = false;
      });
  });
})();
