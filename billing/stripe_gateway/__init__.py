"""The `stripe` billing provider: catalog sync, Checkout, meter-event reporting, webhooks, portal."""
