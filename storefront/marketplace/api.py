"""Marketplace API on the root host: public search (a signed-in buyer's town is its default place), and
the batch API dedicated stores publish through."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import authentication, exceptions, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront.buyers import services as buyers
from storefront.buyers.authentication import BuyerTokenAuthentication, request_buyer
from storefront.catalog.availability import stock_state
from storefront.marketplace import selectors, services
from storefront.marketplace.serializers import (
    ListingBatchResultSerializer,
    ListingBatchSerializer,
    ListingHitSerializer,
    SearchPageSerializer,
    SearchParamsSerializer,
)
from tenants.models import Tenant
from tenants.routing import store_url


class PublishingTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer lbp_...`: the request acts for the token's store, and only for it."""

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, Tenant] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <token>'.")
        tenant = services.tenant_for_publishing_token(header[1].decode(errors="replace"))
        if tenant is None:
            raise exceptions.AuthenticationFailed("Invalid publishing token.")
        return None, tenant

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


class HasPublishingToken(permissions.BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.auth, Tenant)


def search_query(params: dict[str, Any]) -> selectors.SearchQuery:
    """The selector's query from validated parameters; an unknown place is a `near` field error."""
    lat, lon = params.get("lat"), params.get("lon")
    if params.get("near"):
        place = selectors.resolve_place(params["near"])
        if place is None:
            raise exceptions.ValidationError({"near": [f"Unknown town or postcode '{params['near']}'."]})
        lat, lon = place.lat, place.lon
    size = params["page_size"]
    return selectors.SearchQuery(
        text=params["q"],
        lat=lat,
        lon=lon,
        category=params["category"],
        min_price=params.get("min_price"),
        max_price=params.get("max_price"),
        within_km=params.get("within_km"),
        in_stock=params.get("in_stock", False),
        sort=params.get("sort", "relevance"),
        limit=size,
        offset=(params["page"] - 1) * size,
    )


def hit_rows(page: selectors.SearchPage) -> list[dict[str, Any]]:
    rows = []
    for hit in page.results:
        base = store_url(hit.store_slug)
        stock = None if hit.stock is None else stock_state(hit.stock)
        rows.append(
            {
                "title": hit.title,
                "price": hit.price,
                "currency": hit.currency,
                "store": hit.store_slug,
                "store_name": hit.store_name,
                "store_url": base,
                "product_url": base.rstrip("/") + hit.product_path,
                "town": hit.seller_town,
                "distance_km": hit.distance_km,
                "thumbnail_url": picture_url(base, hit.thumbnail_url),
                "stock": hit.stock,
                "stock_status": stock.code if stock else None,
                "stock_label": stock.label if stock else "",
            }
        )
    return rows


def picture_url(store_base: str, thumbnail: str) -> str | None:
    """A listing's picture as an absolute http(s) URL: a path is on the store's host."""
    if not thumbnail:
        return None
    url = urljoin(store_base, thumbnail)
    return url if urlsplit(url).scheme in ("http", "https") else None


def buyer_home(buyer_id: int) -> str:
    """The signed-in buyer's profile place as `near` text ("" when they gave none the gazetteer knows)."""
    account = buyers.active_buyer_account(buyer_id)
    return selectors.home_place(account.town, account.postcode) if account else ""


class SearchView(APIView):
    # Public; a buyer's token only lends the search the buyer's town when the request names no place.
    authentication_classes = [BuyerTokenAuthentication]
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="marketplace_search",
        summary="Search every store's listings, nearest sellers first among equals",
        description="Without `near` or `lat`/`lon`, a buyer's token (`Bearer lbb_...`) makes their profile's "
        "postcode or town the place.",
        parameters=[SearchParamsSerializer],
        responses={200: SearchPageSerializer},
        tags=["marketplace"],
    )
    def get(self, request: Request) -> Response:
        data = request.query_params.copy()
        buyer = request_buyer(request)
        if buyer is not None and not {"near", "lat", "lon"} & set(data):
            data["near"] = buyer_home(buyer.id)
        params_serializer = SearchParamsSerializer(data=data)
        params_serializer.is_valid(raise_exception=True)
        params = params_serializer.validated_data
        page = selectors.search_listings(search_query(params))
        number, size = params["page"], params["page_size"]
        return Response(
            {
                "near": params["near"] or None,
                "count": page.count,
                "next": _page_url(request, number + 1) if number * size < page.count else None,
                "previous": _page_url(request, number - 1) if number > 1 else None,
                "results": ListingHitSerializer(hit_rows(page), many=True).data,
            }
        )


def _page_url(request: Request, number: int) -> str:
    query = request.query_params.copy()
    query["page"] = str(number)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


class ListingBatchView(APIView):
    authentication_classes = [PublishingTokenAuthentication]
    permission_classes = [HasPublishingToken]

    @extend_schema(
        operation_id="marketplace_listings_batch",
        summary="Publish a dedicated store's listings (upserts and withdrawals) with its publishing token",
        request=ListingBatchSerializer,
        responses={200: ListingBatchResultSerializer},
        parameters=[OpenApiParameter("Authorization", location="header", required=True, description="Bearer lbp_...")],
        tags=["marketplace"],
    )
    def post(self, request: Request) -> Response:
        tenant: Tenant = request.auth  # type: ignore[assignment]
        serializer = ListingBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        records = [
            services.ListingRecord(
                **{
                    **row,
                    "source_updated_at": row["source_updated_at"].isoformat() if row["source_updated_at"] else None,
                }
            )
            for row in data["listings"]
        ]
        records += [services.ListingRecord.withdrawn(product_id) for product_id in data["withdrawn"]]
        seller = services.Seller(**data.get("seller", {}))
        changed = services.publish_listings(tenant.pk, data["version"], records, seller)
        return Response({"received": len(records), "changed": changed}, status=status.HTTP_200_OK)
