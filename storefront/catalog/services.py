"""Changing the catalog: products, categories and the seller profile, each change in one transaction.

Callers pass values already cleaned by `product_rules` (serializers, the CSV import); what only the
database can know (a SKU or slug just taken, a category still in use) comes back as `CatalogError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import psycopg2.errors
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError
from django.utils.text import slugify
from django_tenants.utils import tenant_context

from billing import limits
from storefront.catalog import colours, photos
from storefront.catalog.models import Category, Product, SellerProfile
from storefront.publishing import services as publishing
from tenants.db_backend import connection

_Model = TypeVar("_Model", bound=Model)

PRODUCT_FIELDS = frozenset({"title", "description", "price", "currency", "sku", "stock", "status", "category", "tags"})


class CatalogError(Exception):
    """A change the catalog refuses; `errors` is keyed by field, like a serializer's."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _unique_violation_on(error: IntegrityError, column: str) -> bool:
    cause = error.__cause__
    if not isinstance(cause, psycopg2.errors.UniqueViolation):
        return False
    return column in (cause.diag.constraint_name or "") or column in (cause.diag.message_detail or "")


def _save(instance: _Model, key: str, taken: str, fields: list[str] | None = None) -> _Model:
    """Save in a savepoint (only `fields`, when given); a unique `key` taken meanwhile (after the
    serializer's check, by another request) becomes a field error rather than a 500."""
    try:
        with transaction.atomic():
            instance.save(update_fields=fields)
    except IntegrityError as error:
        if _unique_violation_on(error, key):
            raise CatalogError({key: [taken]}) from error
        raise
    return instance


def _save_product(product: Product, fields: list[str] | None = None) -> Product:
    # The marketplace outbox row commits with the change, or not at all.
    with transaction.atomic():
        _save(product, "sku", "A product with this SKU already exists.", fields)
        publishing.record_product_changes([product.pk])
    return product


def create_product(**fields: Any) -> Product:
    """Raises billing.limits.PlanLimitReached when the store's plan allows no more products. Creations
    take turns for the count, so two at the limit cannot both pass."""
    with transaction.atomic():
        limits.lock_store_additions("products")
        limits.check_store_limit("products", current=Product.objects.count())
        return _save_product(Product(**_product_fields(fields)))


def update_product(product: Product, **changes: Any) -> Product:
    """Write the changed fields only: the row's other columns (the units orders allocate meanwhile, moved
    with F() under the row's lock) are never written back from this copy of it."""
    changes = _product_fields(changes)
    for name, value in changes.items():
        setattr(product, name, value)
    return _save_product(product, [*changes, "updated_at"])


# Called in a product's deletion transaction, before the row goes, by what builds on products (the images
# app registers its file clean-up when Django starts: images build on the catalog, not the other way).
ProductDeletionHook = Callable[[Product], object]
_product_deletion_hooks: list[ProductDeletionHook] = []


def on_product_deletion(hook: ProductDeletionHook) -> None:
    if hook not in _product_deletion_hooks:
        _product_deletion_hooks.append(hook)


def delete_product(product: Product) -> None:
    with transaction.atomic():
        for hook in _product_deletion_hooks:
            hook(product)  # e.g. its image rows cascade; their files go after commit
        publishing.record_product_changes([product.pk])
        product.delete()


def _product_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - PRODUCT_FIELDS
    if unknown:
        raise TypeError(f"not product fields: {sorted(unknown)}")
    if "tags" in fields:
        fields = {**fields, "tags": list(fields["tags"])}
    return fields


def create_category(*, name: str, slug: str = "", parent: Category | None = None) -> Category:
    category = Category(name=name, slug=slug or slugify(name)[:50].strip("-"), parent=parent)
    if not category.slug:
        raise CatalogError({"slug": ["Give a slug: the name has no letters or digits to make one from."]})
    return _save_category(category)


def update_category(category: Category, **changes: Any) -> Category:
    if "parent" in changes and _would_loop(category, changes["parent"]):
        raise CatalogError({"parent": ["A category cannot sit inside itself or its own subcategories."]})
    for name, value in changes.items():
        setattr(category, name, value)
    return _save_category(category)


def delete_category(category: Category) -> None:
    """Products in it become uncategorised; a category with subcategories is kept."""
    try:
        category.delete()
    except ProtectedError as error:
        raise CatalogError({"detail": ["Move or delete its subcategories first."]}) from error


def _would_loop(category: Category, parent: Category | None) -> bool:
    # Categories are a shallow tree of a handful of levels: walking up one query a level is fine.
    seen: set[int] = set()
    while parent is not None and parent.pk not in seen:
        if parent.pk == category.pk:
            return True
        seen.add(parent.pk)
        parent = parent.parent
    return False


def _save_category(category: Category) -> Category:
    return _save(category, "slug", "A category with this slug already exists.")


def save_seller_profile(
    *,
    story: str,
    town: str,
    postcode: str,
    photo: UploadedFile | None = None,
    remove_photo: bool = False,
    brand_colour: str | None = None,
) -> SellerProfile:
    """Write the store's one profile (made on first save). A new photo replaces the old one; what is
    stored of it is `photos.clean_photo`'s re-encoding, under a name of the server's. `brand_colour`:
    None keeps the one there is."""
    if brand_colour is not None:
        try:
            brand_colour = colours.clean_brand_colour(brand_colour)
        except ValueError as error:
            raise CatalogError({"brand_colour": [str(error)]}) from error
    cleaned = None
    if photo is not None:
        try:
            cleaned = photos.clean_photo(photo)
        except photos.PhotoInvalid as error:
            raise CatalogError({"photo": [str(error)]}) from error
    with transaction.atomic():
        profile, _ = SellerProfile.objects.select_for_update().get_or_create(pk=1)
        old_photo = profile.photo.name if profile.photo else ""
        moved = (profile.town, profile.postcode) != (town, postcode)
        profile.story, profile.town, profile.postcode = story, town, postcode
        if brand_colour is not None:
            profile.brand_colour = brand_colour
        if cleaned is not None:
            profile.photo.save(cleaned.name or "", cleaned, save=False)  # `photo.<ext>`: see clean_photo
        elif remove_photo:
            profile.photo = ""  # type: ignore[assignment]
        profile.save()
        if moved:
            publishing.record_seller_moved()  # every listing carries the seller's place
        if old_photo and old_photo != profile.photo.name:
            delete_files_on_commit(profile.photo.storage, [old_photo])
    return profile


def delete_files_on_commit(storage: Storage, names: list[str]) -> None:
    """Delete files once the transaction that stopped using them commits (a rollback must not leave a
    row without its file), from this store's media folder whatever schema the connection is in by then."""
    tenant = connection.tenant

    def delete() -> None:
        with tenant_context(tenant):
            for name in names:
                storage.delete(name)

    transaction.on_commit(delete)
