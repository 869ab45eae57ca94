"""A product's photos on its dashboard page: upload (dragged in with a progress bar by
static/dashboard/product_photos.js, or a plain file input), move up or down, make one the main photo, delete.
Uploads go through the image service (checked, stored, processed on Celery); order through `ordering`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from storefront.catalog import selectors as catalog
from storefront.catalog.models import Product
from storefront.dashboard.access import member_required
from storefront.dashboard.product_forms import PhotoUploadForm, errors_in_words
from storefront.images import ordering, services
from storefront.images.models import ProductImage
from storefront.images.selectors import product_images

MOVES = {"up": -1, "down": 1}


def photos_context(product: Product, form: PhotoUploadForm | None = None) -> dict[str, Any]:
    photos = list(product_images(product))
    return {
        "product": product,
        "photos": photos,
        "photo_form": form or PhotoUploadForm(),
        "processing": any(photo.status == ProductImage.Status.PROCESSING for photo in photos),
    }


def _product(pk: int) -> Product:
    product = catalog.products().filter(pk=pk).first()
    if product is None:
        raise Http404("No such product.")
    return product


def _in_page(request: HttpRequest) -> bool:
    """Asked by the page's script (htmx or the upload's XMLHttpRequest): answer a fragment, not a page."""
    return request.headers.get("HX-Request") == "true" or request.headers.get("X-Requested-With") == "XMLHttpRequest"


def _answer(
    request: HttpRequest, product: Product, form: PhotoUploadForm | None = None, *, refusal: str = "", done: str = ""
) -> HttpResponse:
    """The photos section again (in the page), or the product's page with a notice (no script)."""
    if _in_page(request):
        context = {**photos_context(product, form), "refusal": refusal}
        return render(request, "dashboard/products_photos.html", context, status=400 if refusal else 200)
    if refusal:
        messages.error(request, refusal)
    elif done:
        messages.success(request, done)
    return redirect(reverse("dashboard:product", kwargs={"pk": product.pk}) + "#photos")


@require_http_methods(["GET", "POST"])
@member_required
def photos(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the photo list alone (htmx asks again while a photo is processing). POST: upload one photo."""
    product = _product(pk)
    if request.method == "GET":
        return render(request, "dashboard/products_photo_list.html", photos_context(product))
    form = PhotoUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_image(product, form.cleaned_data["file"], alt_text=form.cleaned_data["alt_text"])
        except services.ImageError as error:
            form.add_error("file", str(error))
    if form.errors:
        refusal = " ".join(errors_in_words(form).values())
        return _answer(request, product, form, refusal=refusal)
    return _answer(request, product, done="Photo added: it shows here once it is prepared, in a moment.")


def _photo(product: Product, image_id: int) -> ProductImage:
    return get_object_or_404(product_images(product), pk=image_id)


@require_POST
@member_required
def move_photo(request: HttpRequest, pk: int, image_id: int) -> HttpResponse:
    product = _product(pk)
    photo = _photo(product, image_id)
    direction = request.POST.get("direction", "")
    if direction == "main":
        try:
            ordering.make_main_image(photo)
        except services.ImageError as error:
            return _answer(request, product, refusal=str(error))
    elif direction in MOVES:
        ordering.move_image(photo, steps=MOVES[direction])
    return _answer(request, product)


@require_POST
@member_required
def delete_photo(request: HttpRequest, pk: int, image_id: int) -> HttpResponse:
    product = _product(pk)
    services.delete_image(_photo(product, image_id))
    return _answer(request, product, done="Photo deleted.")


@require_POST
@member_required
def describe_photo(request: HttpRequest, pk: int, image_id: int) -> HttpResponse:
    """What the photo shows, in words read aloud to people who can't see it."""
    product = _product(pk)
    try:
        services.describe_image(_photo(product, image_id), request.POST.get("alt_text", ""))
    except services.ImageError as error:
        return _answer(request, product, refusal=str(error))
    return _answer(request, product, done="Description saved.")
