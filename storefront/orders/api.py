"""The cart, checkout and order API on a store host. Buyers (bearer `lbb_` tokens) have a cart, check
out and read their own orders; the store's staff read every order and move it along."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront.buyers.authentication import BuyerTokenAuthentication, request_buyer
from storefront.buyers.services import BuyerPrincipal
from storefront.orders import selectors, services
from storefront.orders.models import Order
from storefront.orders.serializers import (
    CartItemInSerializer,
    CartQuantitySerializer,
    CartSerializer,
    CheckoutResultSerializer,
    CheckoutSerializer,
    OrderSerializer,
    ProblemSerializer,
    SoldOutSerializer,
    TransitionSerializer,
)
from storefront.payments.providers import PaymentFailed
from tenants.accounts.authentication import BearerTokenAuthentication
from tenants.permissions import IsStoreMember, is_store_member, on_root_host

IDEMPOTENCY_KEY_MAX = 255


class IsBuyer(permissions.BasePermission):
    message = "Sign in as a buyer (a buyer's bearer token) to use a cart."

    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.user, BuyerPrincipal) and not on_root_host()


class IsBuyerOrStoreMember(permissions.BasePermission):
    message = "Only the store's staff, or the buyer who placed it, may see an order."

    def has_permission(self, request: Any, view: Any) -> bool:
        if on_root_host():
            return False
        return isinstance(request.user, BuyerPrincipal) or IsStoreMember().has_permission(request, view)


def _owner(request: Request) -> services.CartOwner:
    buyer = request_buyer(request)
    assert buyer is not None  # IsBuyer let the request in
    return services.CartOwner(buyer_id=buyer.id)


def _refused(error: services.OrderRefused) -> ValidationError:
    return ValidationError(error.errors)


class BuyerView(APIView):
    authentication_classes = [BuyerTokenAuthentication]
    permission_classes = [IsBuyer]


class CartView(BuyerView):
    @extend_schema(responses=CartSerializer)
    def get(self, request: Request) -> Response:
        return Response(selectors.cart_body(_owner(request).carts().first()))


class CartItemsView(BuyerView):
    @extend_schema(request=CartItemInSerializer, responses={201: CartSerializer})
    def post(self, request: Request) -> Response:
        data = CartItemInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            item = data.validated_data
            cart = services.add_to_cart(_owner(request), item["product"], item["quantity"])
        except services.OrderRefused as error:
            raise _refused(error) from error
        return Response(selectors.cart_body(cart), status=status.HTTP_201_CREATED)


class CartItemView(BuyerView):
    @extend_schema(request=CartQuantitySerializer, responses=CartSerializer)
    def patch(self, request: Request, item_id: int) -> Response:
        data = CartQuantitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        owner = _owner(request)
        try:
            services.change_cart_item(owner, item_id, data.validated_data["quantity"])
        except services.NotFound as error:
            raise NotFound(str(error)) from error
        return Response(selectors.cart_body(owner.carts().first()))

    @extend_schema(responses=CartSerializer)
    def delete(self, request: Request, item_id: int) -> Response:
        owner = _owner(request)
        try:
            services.remove_cart_item(owner, item_id)
        except services.NotFound as error:
            raise NotFound(str(error)) from error
        return Response(selectors.cart_body(owner.carts().first()))


def _idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        message = f"An Idempotency-Key is 1 to {IDEMPOTENCY_KEY_MAX} printable characters."
        raise ValidationError({"idempotency_key": [message]})
    return key


class CheckoutView(BuyerView):
    @extend_schema(
        request=CheckoutSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        responses={
            201: CheckoutResultSerializer,
            409: SoldOutSerializer,
            422: ProblemSerializer,
            502: ProblemSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        key = _idempotency_key(request)
        data = CheckoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        checkout = data.validated_data
        buyer = request_buyer(request)
        assert buyer is not None
        fingerprint = hashlib.sha256(json.dumps(checkout, sort_keys=True, default=str).encode()).hexdigest()
        try:
            result = services.place_order(
                services.CartOwner(buyer_id=buyer.id),
                email=buyer.email,
                name=checkout["name"] or buyer.name,
                fulfilment=checkout["fulfilment"],
                address=dict(checkout.get("address") or {}),
                payment=checkout["payment"],
                idempotency_key=key,
                fingerprint=fingerprint,
            )
        except services.OrderRefused as error:
            raise _refused(error) from error
        except services.SoldOut as error:
            return Response({"code": "sold_out", "detail": str(error), "items": error.items}, status=409)
        except services.KeyReused as error:
            return Response({"code": "idempotency_key_reused", "detail": str(error)}, status=422)
        except PaymentFailed as error:
            return Response({"code": "payment_failed", "detail": str(error)}, status=502)
        headers = {} if result.created else {"Idempotent-Replayed": "true"}
        return Response(result.body, status=status.HTTP_201_CREATED, headers=headers)


class OrderAccess(APIView):
    authentication_classes = [BuyerTokenAuthentication, BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [IsBuyerOrStoreMember]

    def visible_orders(self) -> QuerySet[Order]:
        buyer = request_buyer(self.request)
        # A buyer sees their own orders only; anyone else here passed the staff check.
        return selectors.orders(buyer_id=buyer.id) if buyer is not None else selectors.orders()


class OrderListView(OrderAccess, ListAPIView):
    serializer_class = OrderSerializer

    @extend_schema(parameters=[OpenApiParameter("status", OpenApiTypes.STR)], responses=OrderSerializer(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        wanted = request.query_params.get("status") or None
        if wanted is not None and wanted not in Order.Status.values:
            raise ValidationError({"status": [f"Unknown status; one of {', '.join(Order.Status.values)}."]})
        queryset = self.visible_orders()
        if wanted:
            queryset = queryset.filter(status=wanted)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response([selectors.order_body(order) for order in page or []])


class OrderView(OrderAccess):
    @extend_schema(responses=OrderSerializer)
    def get(self, request: Request, order_id: int) -> Response:
        order = self.visible_orders().filter(pk=order_id).first()
        if order is None:
            raise NotFound("No such order.")
        body = selectors.order_body(order)
        if is_store_member(request.user):
            body["history"] = selectors.order_history(order)
        return Response(body)


class OrderTransitionView(APIView):
    permission_classes = [IsStoreMember]

    @extend_schema(
        request=TransitionSerializer, responses={200: OrderSerializer, 409: ProblemSerializer, 502: ProblemSerializer}
    )
    def post(self, request: Request, order_id: int) -> Response:
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            order = services.transition_order(
                order_id,
                data.validated_data["to"],
                actor=f"staff:{request.user.email}",
                reason=data.validated_data["reason"],
            )
        except services.NotFound as error:
            raise NotFound(str(error)) from error
        except services.IllegalTransition as error:
            return Response({"code": "illegal_transition", "detail": str(error)}, status=409)
        except services.SoldOut as error:
            return Response({"code": "sold_out", "detail": str(error), "items": error.items}, status=409)
        except PaymentFailed as error:
            return Response({"code": "payment_failed", "detail": str(error)}, status=502)
        body = selectors.order_body(order)
        body["history"] = selectors.order_history(order)
        return Response(body)
