"""The buyers' pages of a store's own host: home, categories, products, the seller's story and in-store
search. Pages only: what they show comes from the catalog's selectors."""
