// Pays a card order on its order page: Stripe's Payment Element, mounted with the order's PaymentIntent
// (a direct charge, so Stripe.js acts for the store's own account), confirmed without leaving the page
// where the card allows it; then back to the order page, which follows the payment's webhook.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("card-payment-config").textContent);
  const form = document.getElementById("card-payment");
  const errors = document.getElementById("card-errors");
  const button = form.querySelector("button[type=submit]");
  const stripe = Stripe(config.publishableKey, { stripeAccount: config.account });
  const elements = stripe.elements({ clientSecret: config.clientSecret });
  elements.create("payment").mount("#payment-element");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    const result = await stripe.confirmPayment({
      elements,
      confirmParams: { return_url: config.returnUrl },
      // A card confirms here (3-D Secure in Stripe's own dialog); methods that must leave come back to
      // return_url, with Stripe's parameters the order page drops.
      redirect: "if_required",
    });
    if (result.error) {
      // A declined card, a wrong number: Stripe's message by the form (the order follows the webhook).
      errors.textContent = result.error.message;
      button.disabled = false;
      return;
    }
    const back = new URL(config.returnUrl);
    back.searchParams.set("redirect_status", result.paymentIntent.status);
    window.location.assign(back.toString());
  });
})();
