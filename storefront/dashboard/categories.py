"""The store's categories on the dashboard: the list, a new one, a new name for one (catalog services)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from storefront.catalog import selectors, services
from storefront.dashboard.access import member_required
from storefront.dashboard.product_forms import CategoryForm, errors_in_words, refusals_into


def _page(request: HttpRequest, form: CategoryForm, status: int = 200) -> HttpResponse:
    categories = selectors.categories().annotate(product_count=Count("products")).order_by("name", "id")
    context = {"section": "products", "categories": categories, "form": form}
    return render(request, "dashboard/products_categories.html", context, status=status)


def _about_the_name(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    # The slug is made from the name here, so a slug taken is a name taken, to the merchant.
    if "slug" in errors:
        return {"name": ["A category with this name (or one spelt nearly the same) already exists."]}
    return errors


@member_required
def category_list(request: HttpRequest) -> HttpResponse:
    """GET: the list. POST: add a category (its slug made from the name)."""
    form = CategoryForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                category = services.create_category(name=form.cleaned_data["name"])
            except services.CatalogError as error:
                refusals_into(form, _about_the_name(error.errors))
            else:
                messages.success(request, f"{category.name} added.")
                return redirect("dashboard:product-categories")
        return _page(request, form, status=400)
    return _page(request, form)


@require_POST
@member_required
def rename_category(request: HttpRequest, pk: int) -> HttpResponse:
    category = selectors.categories().filter(pk=pk).first()
    if category is None:
        raise Http404("No such category.")
    form = CategoryForm(request.POST)
    if form.is_valid():
        try:
            services.update_category(category, name=form.cleaned_data["name"])
        except services.CatalogError as error:
            refusals_into(form, _about_the_name(error.errors))
        else:
            messages.success(request, f"Renamed to {category.name}.")
            return redirect("dashboard:product-categories")
    messages.error(request, " ".join(errors_in_words(form).values()))
    return redirect("dashboard:product-categories")
