"""The product list's pages, cached per store as the JSON sent, until the store's catalog changes."""

from __future__ import annotations

from tenants import cache_generations

# The product list's pages are cached per store, request host and query until the catalog changes:
# `catalog_changed` runs on every product or category save or delete (signals, see apps.py) and after
# bulk writes (CSV import). TTL as a backstop.
CATALOG = "catalog"
PRODUCT_PAGE_CACHE_SECONDS = 60


def cached_product_page(key: str) -> tuple[bytes | None, str | None]:
    """(a cached page of the product list as sent, or None; the generation to store a fresh one under)."""
    return cache_generations.read(CATALOG, f"product-page:{key}")


def cache_product_page(key: str, generation: str | None, page: bytes) -> None:
    cache_generations.store(CATALOG, f"product-page:{key}", generation, page, PRODUCT_PAGE_CACHE_SECONDS)


def catalog_changed() -> None:
    cache_generations.bump(CATALOG)
