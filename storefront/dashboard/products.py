"""The dashboard's products: the list (search, status, pages, price and stock changed from a row) and the
product page (add, edit). Every change goes through the catalog's services; a refusal is shown in words."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from billing.limits import PlanLimitReached
from storefront.catalog import selectors, services
from storefront.catalog.filters import ProductFilter
from storefront.catalog.models import Product
from storefront.dashboard import product_photos
from storefront.dashboard.access import member_required
from storefront.dashboard.product_forms import ProductForm, QuickEditForm, errors_in_words, major_units, refusals_into
from storefront.images.selectors import with_main_image

PER_PAGE = 25


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _listed(params: Any) -> QuerySet[Product]:
    """The store's products matching the list's search (`q`: title, description, SKU) and `status`, newest
    first, each with its main photo (one more query for the page)."""
    wanted = {name: params.get(name, "") for name in ("q", "status")}
    return with_main_image(ProductFilter(wanted, queryset=selectors.products()).qs)


def _row(product: Product, **extra: Any) -> dict[str, Any]:
    return {
        "product": product,
        "price_typed": major_units(product.price, product.currency),
        **extra,
    }


@member_required
def product_list(request: HttpRequest) -> HttpResponse:
    page: Page[Product] = Paginator(_listed(request.GET), PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "section": "products",
        "page": page,
        "rows": [_row(product) for product in page.object_list],
        "q": request.GET.get("q", ""),
        "status": request.GET.get("status", ""),
        "statuses": Product.Status.choices,
        "query": query.urlencode(),
        "here": request.get_full_path(),
    }
    return render(request, "dashboard/products.html", context)


def _locked_product(pk: int) -> Product:
    """The product, its row locked until the transaction ends: a change saves the whole row, so nothing
    that orders move meanwhile (stock, allocated) may be read stale and written back."""
    product = with_main_image(selectors.products().select_for_update(of=("self",))).filter(pk=pk).first()
    if product is None:
        raise Http404("No such product.")
    return product


@require_POST
@member_required
def quick_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A row's price or stock changed: the row back with the new value, or with why not (nothing changed).
    Without htmx, back to the list with a notice."""
    with transaction.atomic():
        product = _locked_product(pk)
        form = QuickEditForm(request.POST, currency=product.currency)
        if form.is_valid():
            try:
                services.update_product(product, **form.cleaned_data)
            except services.CatalogError as error:
                refusals_into(form, error.errors)
    errors = errors_in_words(form)
    if is_htmx(request):
        if errors:  # the row as it is, with the refusal and what was typed
            product.refresh_from_db()
        row = _row(product, errors=errors, typed=request.POST, saved=not errors)
        return render(request, "dashboard/products_row.html", row)
    if errors:
        messages.error(request, f"{product.title}: {' '.join(errors.values())}")
    else:
        messages.success(request, f"{product.title}: saved.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("dashboard:products")
    return redirect(back)


def _refused(form: ProductForm, change: Any, *args: Any) -> Product | None:
    """Run a catalog service; its refusals go on the form (by field, or above it)."""
    try:
        return change(*args, **form.product_fields())  # type: ignore[no-any-return]
    except services.CatalogError as error:
        refusals_into(form, error.errors)
    except PlanLimitReached as error:
        form.add_error(None, error.message)
        form.upgrade_url = error.upgrade_url  # type: ignore[attr-defined]
    return None


@member_required
def new_product(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST or None, currency=selectors.store_currency())
    if request.method == "POST" and form.is_valid():
        product = _refused(form, services.create_product)
        if product is not None:
            messages.success(request, f"{product.title} added. Now add its photos.")
            return redirect("dashboard:product", pk=product.pk)
    return render(request, "dashboard/products_form.html", {"section": "products", "form": form, "product": None})


@member_required
def edit_product(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "POST":
        with transaction.atomic():
            product = _locked_product(pk)
            form = ProductForm.of(product, request.POST)
            if form.is_valid() and _refused(form, services.update_product, product) is not None:
                messages.success(request, f"{product.title} saved.")
                return redirect("dashboard:product", pk=product.pk)
        product.refresh_from_db()  # the page shows what is stored, the form what was typed
    else:
        product = selectors.products().filter(pk=pk).first()  # type: ignore[assignment]
        if product is None:
            raise Http404("No such product.")
        form = ProductForm.of(product)
    context = {"section": "products", "form": form, "product": product, **product_photos.photos_context(product)}
    return render(request, "dashboard/products_form.html", context)


@require_POST
@member_required
def delete_product(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a product (its photos go with it; orders keep their lines, which name it), once confirmed."""
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Tick the box to confirm the deletion: nothing was deleted.")
        return redirect("dashboard:product", pk=pk)
    with transaction.atomic():
        product = _locked_product(pk)
        services.delete_product(product)
    messages.success(request, f"{product.title} deleted.")
    return redirect("dashboard:products")
