"""Putting a product's images in the merchant's order: move one up, down or first. The first ready image is
the product's own, so moving a ready image first makes it the main image (`services.images_reordered`)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import Case, Value, When

from storefront.catalog.models import Product
from storefront.images import services
from storefront.images.models import ProductImage


def move_image(image: ProductImage, *, steps: int) -> None:
    """Move `image` `steps` places later (negative: earlier) among its product's images, stopping at the
    ends."""
    _place(image, lambda index: index + steps)


def make_main_image(image: ProductImage) -> None:
    """Make a ready image the product's own by moving it first; a processing or failed one can't be."""
    if image.status != ProductImage.Status.READY:
        raise services.ImageError("Only a photo that is ready can be the main photo.", field="detail")
    _place(image, lambda index: 0)


def _place(image: ProductImage, where: Callable[[int], int]) -> None:
    """Put `image` at `where(its index now)`, renumber the positions 0, 1, 2... in one statement, then choose
    the main image again; all with the product locked."""
    with transaction.atomic():
        # The product row is the lock for its images' positions and main image (as in `services`).
        product = Product.objects.select_for_update().get(pk=image.product_id)
        order = list(
            ProductImage.objects.filter(product=product).order_by("position", "id").values_list("pk", "position")
        )
        ids = [pk for pk, _ in order]
        if image.pk not in ids:  # deleted meanwhile
            return
        index = ids.index(image.pk)
        ids.remove(image.pk)
        ids.insert(max(0, min(where(index), len(ids))), image.pk)
        moved = {pk: position for position, pk in enumerate(ids) if (pk, position) not in order}
        if moved:
            ProductImage.objects.filter(pk__in=moved).update(
                position=Case(*(When(pk=pk, then=Value(position)) for pk, position in moved.items()))
            )
        services.images_reordered(product)
