"""The selling suite's fixtures (buyers, stores' schemas) serve the payment tests too."""

from tests.storefront.orders.conftest import buyer, in_store_of, make_buyer

__all__ = ["buyer", "in_store_of", "make_buyer"]
