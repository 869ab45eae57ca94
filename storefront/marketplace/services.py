"""Writing the marketplace index: a store's listings published in batches (from its outbox drain or the
dedicated-store batch API), store visibility on suspension, and dedicated stores' publishing tokens.

A batch is one upsert statement. Every row carries the batch's version and only a higher version
overwrites a row, so a replayed or late batch never puts older data over newer. Withdrawn products
(archived, deleted) stay as unlisted tombstones with their version for the same reason.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from django.db import transaction

from storefront.marketplace import selectors
from storefront.marketplace.models import Listing, PendingPublication, PublishingToken
from tenants.db_backend import connection
from tenants.models import Tenant

TITLE_MAX = 200
WORD_MAX = 80
THUMBNAIL_URL_MAX = 500
PRODUCT_PATH = "/products/{id}/"
# The ISO 4217 code for "no currency", on tombstones of deleted products (they have no price).
NO_CURRENCY = "XXX"


@dataclass(frozen=True)
class ListingRecord:
    """One product as the store publishes it. `is_listed` is False for an archived or draft product;
    a deleted product is a record with only its id (see `withdrawn`)."""

    product_id: int
    title: str = ""
    description: str = ""
    price: int = 0
    currency: str = NO_CURRENCY
    tags: Sequence[str] = field(default_factory=tuple)
    labels: Sequence[str] = field(default_factory=tuple)
    category_name: str = ""
    category_slug: str = ""
    is_listed: bool = True
    source_updated_at: str | None = None
    # The main image's small thumbnail (a URL, or a path on the store's host); "" for none.
    thumbnail_url: str = ""
    # Units left to sell; None when the publisher does not say (a store on an older release).
    stock: int | None = None

    @classmethod
    def withdrawn(cls, product_id: int) -> ListingRecord:
        return cls(product_id=product_id, is_listed=False)

    def as_row(self) -> dict[str, object]:
        row = asdict(self)
        row["title"] = self.title[:TITLE_MAX]
        row["tags"] = [tag[:WORD_MAX] for tag in self.tags]
        row["labels"] = [label[:WORD_MAX] for label in self.labels]
        row["category_name"] = self.category_name[:WORD_MAX]
        row["category_slug"] = self.category_slug[:60]
        # A longer URL is cut off, not stored broken.
        row["thumbnail_url"] = self.thumbnail_url if len(self.thumbnail_url) <= THUMBNAIL_URL_MAX else ""
        row["stock"] = None if self.stock is None else max(int(self.stock), 0)
        row["product_path"] = PRODUCT_PATH.format(id=self.product_id)
        return row


@dataclass(frozen=True)
class Seller:
    town: str = ""
    postcode: str = ""


_UPSERT = """
WITH batch AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
        product_id bigint, title text, description text, price bigint, currency text, tags text[],
        labels text[], category_name text, category_slug text, product_path text, is_listed boolean,
        source_updated_at timestamptz, thumbnail_url text, stock integer)
)
INSERT INTO marketplace_listing AS l (
    tenant_id, product_id, title, description, tags, labels, category_name, category_slug, price, currency,
    product_path, seller_town, lat, lon, source_version, source_updated_at, is_listed, store_is_live,
    thumbnail_url, stock, search_vector, published_at)
SELECT %(tenant_id)s, b.product_id, b.title, b.description, coalesce(b.tags, '{}'), coalesce(b.labels, '{}'),
       b.category_name, b.category_slug, b.price, b.currency, b.product_path, %(town)s, %(lat)s, %(lon)s,
       %(version)s, b.source_updated_at, b.is_listed, %(store_is_live)s, coalesce(b.thumbnail_url, ''), b.stock,
       CASE WHEN b.title = '' THEN NULL ELSE
           setweight(to_tsvector('english', b.title), 'A')
           || setweight(to_tsvector('english', concat_ws(' ', array_to_string(b.tags, ' '),
                                                        array_to_string(b.labels, ' '), b.category_name)), 'B')
           || setweight(to_tsvector('english', b.description), 'C')
       END,
       now()
  FROM batch b
ORDER BY b.product_id
ON CONFLICT (tenant_id, product_id) DO UPDATE SET
    title = CASE WHEN EXCLUDED.title = '' THEN l.title ELSE EXCLUDED.title END,
    description = CASE WHEN EXCLUDED.title = '' THEN l.description ELSE EXCLUDED.description END,
    tags = CASE WHEN EXCLUDED.title = '' THEN l.tags ELSE EXCLUDED.tags END,
    labels = CASE WHEN EXCLUDED.title = '' THEN l.labels ELSE EXCLUDED.labels END,
    category_name = CASE WHEN EXCLUDED.title = '' THEN l.category_name ELSE EXCLUDED.category_name END,
    category_slug = CASE WHEN EXCLUDED.title = '' THEN l.category_slug ELSE EXCLUDED.category_slug END,
    price = CASE WHEN EXCLUDED.title = '' THEN l.price ELSE EXCLUDED.price END,
    currency = CASE WHEN EXCLUDED.title = '' THEN l.currency ELSE EXCLUDED.currency END,
    thumbnail_url = CASE WHEN EXCLUDED.title = '' THEN l.thumbnail_url ELSE EXCLUDED.thumbnail_url END,
    stock = CASE WHEN EXCLUDED.title = '' THEN l.stock ELSE EXCLUDED.stock END,
    search_vector = CASE WHEN EXCLUDED.title = '' THEN l.search_vector ELSE EXCLUDED.search_vector END,
    product_path = EXCLUDED.product_path,
    seller_town = EXCLUDED.seller_town,
    lat = EXCLUDED.lat,
    lon = EXCLUDED.lon,
    source_version = EXCLUDED.source_version,
    source_updated_at = EXCLUDED.source_updated_at,
    is_listed = EXCLUDED.is_listed,
    store_is_live = EXCLUDED.store_is_live,
    published_at = EXCLUDED.published_at
WHERE l.source_version < EXCLUDED.source_version
"""

# New words of listed products join the vocabulary, in a stable order (no deadlock between batches).
_ADD_WORDS = """
INSERT INTO marketplace_listingword (word)
SELECT DISTINCT w
  FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(title text, tags text[], labels text[], category_name text,
                                                 is_listed boolean),
       regexp_split_to_table(lower(concat_ws(' ', r.title, array_to_string(r.tags, ' '),
                                             array_to_string(r.labels, ' '), r.category_name)), '[^[:alnum:]]+') AS w
 WHERE r.is_listed AND length(w) BETWEEN 3 AND 40
 ORDER BY w
ON CONFLICT DO NOTHING
"""


def publish_listings(tenant_id: int, version: int, records: Iterable[ListingRecord], seller: Seller) -> int:
    """Write a store's batch of listings at `version`; returns how many rows changed (older batches
    change nothing). Runs in the caller's transaction when there is one (the outbox drain's)."""
    rows = [record.as_row() for record in records]
    if not rows:
        return 0
    place = selectors.resolve_place(seller.postcode) or selectors.resolve_place(seller.town)
    payload = json.dumps(rows)
    with transaction.atomic(), connection.cursor() as cursor:
        # Shares the tenant row's lock with suspension: a batch either sees the new status or is
        # written before suspension hides the store's rows.
        cursor.execute("SELECT status FROM tenants_tenant WHERE id = %s FOR SHARE", [tenant_id])
        found = cursor.fetchone()
        if found is None:
            raise Tenant.DoesNotExist(f"no tenant {tenant_id}")
        cursor.execute(
            _UPSERT,
            {
                "rows": payload,
                "tenant_id": tenant_id,
                "town": seller.town[:80],
                "lat": place.lat if place else None,
                "lon": place.lon if place else None,
                "version": version,
                "store_is_live": found[0] == Tenant.Status.ACTIVE,
            },
        )
        changed = cursor.rowcount
        cursor.execute(_ADD_WORDS, {"rows": payload})
    return changed


def set_store_listings_live(tenant_id: int, is_live: bool) -> int:
    """Hide (suspension) or show again (reactivation) every listing of a store, in one statement."""
    return Listing.objects.filter(tenant_id=tenant_id).exclude(store_is_live=is_live).update(store_is_live=is_live)


def withdraw_store(tenant_id: int) -> int:
    """Remove a store from the index for good (deprovisioned): its listings and any pending marker."""
    PendingPublication.objects.filter(tenant_id=tenant_id).delete()
    deleted, _ = Listing.objects.filter(tenant_id=tenant_id).delete()
    return deleted


def mark_pending(tenant_id: int, schema_name: str) -> None:
    """Flag a store as having outbox rows to drain (in the caller's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO marketplace_pendingpublication (tenant_id, schema_name, marked_at) VALUES (%s, %s, now()) "
            "ON CONFLICT (tenant_id) DO UPDATE SET marked_at = EXCLUDED.marked_at",
            [tenant_id, schema_name],
        )


def clear_pending(tenant_id: int) -> None:
    PendingPublication.objects.filter(tenant_id=tenant_id).delete()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_publishing_token(tenant: Tenant) -> str:
    """A new token for the store's batch API (replacing any earlier one); shown once, kept hashed."""
    token = "lbp_" + secrets.token_urlsafe(32)
    register_publishing_token(tenant, token)
    return token


def register_publishing_token(tenant: Tenant, token: str) -> None:
    """Make `token`, made elsewhere, the store's publishing token (replacing any earlier one): the `local`
    provisioning backend derives its stacks' own (provisioning.stack_environment)."""
    PublishingToken.objects.update_or_create(tenant=tenant, defaults={"key_hash": _digest(token)})


def tenant_for_publishing_token(token: str) -> Tenant | None:
    found = PublishingToken.objects.select_related("tenant").filter(key_hash=_digest(token)).first()
    return found.tenant if found else None


def publishing_token_digest(tenant_id: int) -> str:
    """The SHA-256 of the store's publishing token ("" if it has none): what the platform and the store's
    stack both know, the stack by hashing its token (storefront.payments.forwarding signs with it)."""
    return PublishingToken.objects.filter(tenant_id=tenant_id).values_list("key_hash", flat=True).first() or ""
