"""Billing's HTTP API: the public plan catalog on the root host, and the customer portal on a store's
host (`/api/v1/billing/...`, the store's owner only)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors, services
from billing.errors import BillingError
from billing.permissions import IsStoreOwner
from billing.serializers import (
    ChangePlanRequestSerializer,
    InvoiceSerializer,
    PlanChangeSerializer,
    PlanSerializer,
    SubscriptionSerializer,
    UsageSerializer,
    plan_change_summary,
    usage_summary,
)

NO_SUBSCRIPTION = "This store has no subscription."
# How each refusal reads over HTTP; anything else is the customer's request to fix (400).
ERROR_STATUS = {"no_subscription": status.HTTP_404_NOT_FOUND, "subscription_canceled": status.HTTP_409_CONFLICT}
REFUSED = OpenApiResponse(description='Refused: {"code": "...", "detail": "..."}')


class PlanListView(generics.ListAPIView):
    """`GET /api/v1/plans`: the public plan catalog, for anyone (signup pages, pricing pages)."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    pagination_class = None  # a handful of plans
    serializer_class = PlanSerializer

    def get_queryset(self) -> Any:
        return selectors.public_plans()


class SubscriptionView(APIView):
    permission_classes = [IsStoreOwner]

    @extend_schema(tags=["billing"], responses={200: SubscriptionSerializer, 404: REFUSED})
    def get(self, request: Request) -> Response:
        """The store's plan, status and current billing period."""
        subscription = selectors.subscription_for(request.tenant.pk)  # type: ignore[attr-defined]
        if subscription is None:
            raise NotFound(NO_SUBSCRIPTION)
        return Response(SubscriptionSerializer(subscription).data)


class UsageView(APIView):
    permission_classes = [IsStoreOwner]

    @extend_schema(tags=["billing"], responses={200: UsageSerializer, 404: REFUSED})
    def get(self, request: Request) -> Response:
        """This period's usage per metric and the projected invoice due when the period ends."""
        projected = selectors.projected_invoice(request.tenant)  # type: ignore[attr-defined]
        if projected is None:
            raise NotFound(NO_SUBSCRIPTION)
        return Response(UsageSerializer(usage_summary(projected)).data)


class InvoiceListView(generics.ListAPIView):
    """The store's invoices, newest first."""

    permission_classes = [IsStoreOwner]
    serializer_class = InvoiceSerializer

    @extend_schema(tags=["billing"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        return selectors.invoices_for(self.request.tenant.pk)  # type: ignore[attr-defined]


class ChangePlanView(APIView):
    permission_classes = [IsStoreOwner]

    @extend_schema(
        tags=["billing"],
        request=ChangePlanRequestSerializer,
        responses={200: PlanChangeSerializer, 400: REFUSED, 404: REFUSED, 409: REFUSED},
    )
    def post(self, request: Request) -> Response:
        """Move to another plan now, keeping the billing period; with `"preview": true`, only show the
        proration (credit for the old plan's fee, charge for the new, over the time left)."""
        body = ChangePlanRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tenant, code = request.tenant, body.validated_data["plan"]  # type: ignore[attr-defined]
        try:
            if body.validated_data["preview"]:
                subscription = selectors.subscription_for(tenant.pk)
                if subscription is None:
                    raise BillingError(NO_SUBSCRIPTION, "no_subscription")
                change = selectors.preview_plan_change(subscription, code, timezone.now())
            else:
                change = services.change_plan(tenant, code)
        except BillingError as error:
            return Response(
                {"code": error.code, "detail": error.message},
                status=ERROR_STATUS.get(error.code, status.HTTP_400_BAD_REQUEST),
            )
        summary = plan_change_summary(change, preview=body.validated_data["preview"])
        return Response(PlanChangeSerializer(summary).data)
