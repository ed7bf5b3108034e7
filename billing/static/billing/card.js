// The Card Element pages (a credit pack, a monthly plan). Stripe.js saves the card with a SetupIntent
// (confirmCardSetup: the card goes to Stripe, never to us), then the form posts the SetupIntent's id and the server
// charges that card. When the server's charge needs 3-D Secure, the page comes back with data-action-secret and
// Stripe.js shows the bank's challenge (confirmCardPayment) before going to the receipt.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form) return;
  var errors = document.getElementById("card-errors");
  var button = form.querySelector("button[type=submit]");

  function fail(message) {
    errors.textContent = message || form.dataset.failed;
    form.removeAttribute("aria-busy");
    button.disabled = false;
  }

  if (typeof window.Stripe !== "function") {
    fail(form.dataset.unavailable);
    button.disabled = true;
    return;
  }
  var stripe = window.Stripe(form.dataset.key, { locale: document.documentElement.lang || "auto" });

  if (form.dataset.actionSecret) {
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    stripe.confirmCardPayment(form.dataset.actionSecret).then(function (result) {
      if (result.error) {
        fail(result.error.message);
        button.disabled = true; // this intent needs a new card: the page offers it again after a reload
      } else {
        window.location.href = form.dataset.done;
      }
    });
    return;
  }

  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var busy = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return; // a double click confirms once
    busy = true;
    button.disabled = true;
    errors.textContent = "";
    form.setAttribute("aria-busy", "true");
    stripe.confirmCardSetup(form.dataset.secret, { payment_method: { card: card } }).then(function (result) {
      if (result.error || !result.setupIntent) {
        busy = false;
        fail(result.error && result.error.message);
        return;
      }
      form.elements.setup_intent.value = result.setupIntent.id;
      form.submit(); // no submit event: this posts once
    });
  });
})();
