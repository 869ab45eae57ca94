"""Draining a store's outbox into the marketplace index, in batches.

Each batch is one transaction: take the store's drain lock, clear its pending flag, claim the oldest
outbox rows (FOR UPDATE SKIP LOCKED), read those products as they are now, publish them at a fresh
version, delete the claimed rows, and flag the store again if rows may remain. A worker killed
mid-batch rolls all of it back (rows, flag and, for the index publisher, the listings): nothing is
lost and, on the retry, nothing is written twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.db import transaction

from storefront.catalog.models import Product, SellerProfile
from storefront.marketplace import services as marketplace
from storefront.marketplace.services import ListingRecord, Seller
from storefront.publishing.models import ListingChange
from storefront.publishing.publishers import ListingPublisher, configured_publisher
from storefront.publishing.services import store_identity
from tenants.db_backend import connection


def drain_listing_changes(publisher: ListingPublisher | None = None, batch_size: int | None = None) -> int:
    """Publish every pending change of the store the connection is in; returns how many rows drained."""
    publisher = publisher or configured_publisher()
    batch_size = batch_size or settings.MARKETPLACE_DRAIN_BATCH_SIZE
    tenant_id, schema = store_identity()
    drained = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # One drain per store at a time: a later drain reads later product states and
                # carries a higher version, so batches can never overtake each other.
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('publishing.drain'), hashtext(current_schema()))")
            marketplace.clear_pending(tenant_id)
            claimed = list(
                ListingChange.objects.select_for_update(skip_locked=True)
                .order_by("id")
                .values_list("id", "product_id")[:batch_size]
            )
            if not claimed:
                return drained
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval(pg_get_serial_sequence('publishing_listingchange', 'id'))")
                (version,) = cursor.fetchone()
            records = listing_records({product_id for _, product_id in claimed})
            publisher.publish(tenant_id, version, records, current_seller())
            ListingChange.objects.filter(id__in=[change_id for change_id, _ in claimed]).delete()
            if len(claimed) == batch_size:
                marketplace.mark_pending(tenant_id, schema)
        drained += len(claimed)
        if len(claimed) < batch_size:
            return drained


def listing_records(product_ids: Iterable[int]) -> list[ListingRecord]:
    """The products as they are now; a product no longer there is withdrawn."""
    ids = set(product_ids)
    products = Product.objects.filter(pk__in=ids).select_related("category")
    labels = _labels(ids)
    thumbnails = _thumbnail_urls(ids)
    records = [
        ListingRecord(
            product_id=product.pk,
            title=product.title,
            description=product.description,
            price=product.price,
            currency=product.currency,
            tags=list(product.tags),
            labels=labels.get(product.pk, []),
            category_name=product.category.name if product.category else "",
            category_slug=product.category.slug if product.category else "",
            is_listed=product.status == Product.Status.ACTIVE,
            source_updated_at=product.updated_at.isoformat(),
            thumbnail_url=thumbnails.get(product.pk, ""),
            stock=product.unallocated,
        )
        for product in products
    ]
    found = {record.product_id for record in records}
    records += [ListingRecord.withdrawn(product_id) for product_id in sorted(ids - found)]
    return records


def _labels(product_ids: set[int]) -> dict[int, list[str]]:
    """Labels of the products' ready images (image labelling), when the store has images."""
    if not apps.is_installed("storefront.images"):
        return {}
    image_model = apps.get_model("images", "ProductImage")
    labels: dict[int, dict[str, None]] = {}
    rows = (
        image_model.objects.filter(product_id__in=product_ids, status="ready")
        .order_by("product_id", "position", "id")
        .values_list("product_id", "labels")
    )
    for product_id, image_labels in rows:
        for label in image_labels:
            labels.setdefault(product_id, {}).setdefault(label, None)
    return {product_id: list(found) for product_id, found in labels.items()}


# The listing-sized thumbnail (storefront.images.thumbnails.SMALL), WebP first, JPEG if that is all there is.
_THUMBNAIL_SIZE = "268x200"


def _thumbnail_urls(product_ids: set[int]) -> dict[int, str]:
    """The small thumbnail of each product's main image, as a URL that lasts (the index keeps it)."""
    if not apps.is_installed("storefront.images"):
        return {}
    image_model = apps.get_model("images", "ProductImage")
    rows = image_model.objects.filter(product_id__in=product_ids, is_main=True).values_list("product_id", "thumbnails")
    urls = {}
    for product_id, thumbnails in rows:
        variant = (thumbnails or {}).get(_THUMBNAIL_SIZE) or {}
        name = variant.get("webp") or variant.get("jpeg")
        if name and (url := _lasting_url(default_storage, name)):
            urls[product_id] = url
    return urls


def _lasting_url(storage: Storage, name: str) -> str:
    """The file's URL, unless it expires: a presigned S3 URL (AWS_QUERYSTRING_AUTH without a custom
    domain) would be dead within the hour while the listing lives on, so such a store's listings go
    without a picture. The filesystem storage answers a path on the store's own host ("/media/...")."""
    if getattr(storage, "querystring_auth", False) and not getattr(storage, "custom_domain", None):
        return ""
    return storage.url(name)


def current_seller() -> Seller:
    """Where the seller is: the profile's town and postcode when it gives either (a seller who moved and
    gave only the new town must not be placed at the signup postcode), else the ones given at signup."""
    profile = SellerProfile.objects.filter(pk=1).only("town", "postcode").first()
    if profile is not None and (profile.town or profile.postcode):
        return Seller(town=profile.town, postcode=profile.postcode)
    tenant = getattr(connection, "tenant", None)
    return Seller(town=getattr(tenant, "town", "") or "", postcode=getattr(tenant, "postcode", "") or "")
