"""The seller's story in the dashboard: the words, photo and town buyers see on the store's pages and in
the marketplace, and the shop's colour the dashboard is drawn in (catalog.services.save_seller_profile, the
same service as the API)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET

from storefront.catalog import colours, selectors, services
from storefront.catalog.serializers import SellerProfileSerializer
from storefront.dashboard.access import member_required

FIELDS = ("story", "town", "postcode", "brand_colour")


@member_required
def story_page(request: HttpRequest) -> HttpResponse:
    profile = selectors.seller_profile()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        # The API's rules for each field (lengths, clean text), so both say the same.
        data = SellerProfileSerializer(
            data={key: request.POST.get(key, "") for key in ("story", "town", "postcode", "brand_colour")},
            context={"request": request},
        )
        if data.is_valid():
            try:
                services.save_seller_profile(
                    **data.validated_data,
                    photo=request.FILES.get("photo"),
                    remove_photo=request.POST.get("remove_photo") == "1",
                )
            except services.CatalogError as error:
                errors = error.errors
            else:
                messages.success(request, "Your story is saved: buyers see it now.")
                response = HttpResponseRedirect("/dashboard/story/")
                response.status_code = 303
                return response
        else:
            errors = {field: [str(m) for m in problems] for field, problems in data.errors.items()}
    context = {
        "section": "story",
        "profile": profile,
        "errors": errors,
        "values": request.POST if request.method == "POST" else None,
        "default_colour": colours.DEFAULT_BRAND_COLOUR,
    }
    return render(request, "dashboard/story.html", context, status=400 if errors else 200)


@require_GET
def brand_stylesheet(request: HttpRequest) -> HttpResponse:
    """`:root { --brand: #rrggbb }` for the colour in `c` (base.html links it with the store's colour, so a
    new colour is a new address: cached for good). Anything but an acceptable colour gives the default."""
    try:
        colour = colours.clean_brand_colour("#" + request.GET.get("c", "")[:6])
    except ValueError:
        colour = ""
    response = HttpResponse(
        f":root {{ --brand: {colour or colours.DEFAULT_BRAND_COLOUR}; }}\n", content_type="text/css"
    )
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
