"""Buyers' order history over the API, on the root host: a buyer's orders in every store
(`GET /api/v1/buyers/me/orders`, buyer token), and the batch API a dedicated store's stack feeds it through
(`POST /api/v1/purchases/orders/batch`, the store's publishing token, as its listings)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from storefront.buyers.authentication import BuyerTokenAuthentication, request_buyer
from storefront.marketplace.api import HasPublishingToken, PublishingTokenAuthentication
from storefront.purchases import selectors, services
from storefront.purchases.serializers import (
    HistoryParamsSerializer,
    OrderBatchResultSerializer,
    OrderBatchSerializer,
    OrderHistoryEntrySerializer,
    OrderHistoryPageSerializer,
)
from tenants.models import Tenant
from tenants.permissions import on_root_host


class IsBuyerOnRootHost(permissions.BasePermission):
    """A buyer's token, on the marketplace's own host: a store's staff token is no buyer's (401)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return request_buyer(request) is not None and on_root_host()


class BuyerOrdersView(APIView):
    authentication_classes = [BuyerTokenAuthentication]
    permission_classes = [IsBuyerOnRootHost]

    @extend_schema(
        operation_id="buyer_orders",
        summary="The signed-in buyer's orders in every store, newest first",
        parameters=[HistoryParamsSerializer],
        responses={200: OrderHistoryPageSerializer},
        tags=["buyers"],
    )
    def get(self, request: Request) -> Response:
        buyer = request_buyer(request)
        assert buyer is not None  # IsBuyerOnRootHost let the request in
        params = HistoryParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        number, size = params.validated_data["page"], params.validated_data["page_size"]
        page = selectors.buyer_order_history(buyer.id, limit=size, offset=(number - 1) * size)
        here = request.build_absolute_uri()
        previous = None
        if number > 1:
            previous = replace_query_param(here, "page", number - 1) if number > 2 else remove_query_param(here, "page")
        return Response(
            {
                "count": page.count,
                "next": replace_query_param(here, "page", number + 1) if number * size < page.count else None,
                "previous": previous,
                "results": OrderHistoryEntrySerializer(page.results, many=True).data,
            }
        )


class OrderBatchView(APIView):
    authentication_classes = [PublishingTokenAuthentication]
    permission_classes = [HasPublishingToken]

    @extend_schema(
        operation_id="buyer_orders_batch",
        summary="Report a dedicated store's buyers' orders (summaries at versions) with its publishing token",
        request=OrderBatchSerializer,
        responses={
            200: OrderBatchResultSerializer,
            403: OpenApiResponse(description='The batch names another store: {"code": "wrong_store", ...}'),
        },
        parameters=[OpenApiParameter("Authorization", location="header", required=True, description="Bearer lbp_...")],
        tags=["buyers"],
    )
    def post(self, request: Request) -> Response:
        tenant: Tenant = request.auth  # type: ignore[assignment]
        serializer = OrderBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["store"] != tenant.slug:
            # A stack holding another store's token would file its orders under that store's name.
            return Response(
                {"code": "wrong_store", "detail": "This token is another store's. Nothing was recorded."},
                status=status.HTTP_403_FORBIDDEN,
            )
        summaries = [services.OrderSummary(**row) for row in data["orders"]]
        changed = services.record_buyer_orders(tenant.pk, summaries)
        return Response({"received": len(summaries), "changed": changed}, status=status.HTTP_200_OK)
