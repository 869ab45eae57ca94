"""The control plane's billing answers to a dedicated store's stack, which has no billing of its own (the
platform bills the store): `POST /api/v1/dedicated/billing-summary` (the store's plan, subscription, usage
this period with the projected bill, and recent invoices) and `POST /api/v1/dedicated/invoice-pdf` (one of
its invoices as a PDF), shown in its billing portal (billing.control_plane); and `POST /api/v1/dedicated/
standing` (whether the platform has the store open, and its plan's limits), which the stack enforces itself
(tenants.standing). The caller's publishing token names the store, never the body."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors
from billing.api import invoice_pdf_response
from billing.limits import LIMITS, plan_limits
from billing.models import Invoice, Metric
from billing.rating import Interval
from billing.serializers import InvoiceSerializer, SubscriptionSerializer, UsageSerializer, usage_summary
from billing.usage_api import ActsForAStore
from tenants.models import Tenant

INVOICES_SENT = 24
AUTHORIZATION = OpenApiParameter("Authorization", location="header", required=True, description="Bearer lbp_...")
NOT_DEDICATED = OpenApiResponse(description='A shared store\'s token: {"code": "not_a_dedicated_store", ...}')
NO_SUBSCRIPTION = OpenApiResponse(description='{"code": "no_subscription", ...}')


class StackInvoiceSerializer(InvoiceSerializer):
    """An invoice as the stack rebuilds it: whether it has a PDF, not a link (the stack links its own route)."""

    has_pdf = serializers.SerializerMethodField()

    class Meta(InvoiceSerializer.Meta):
        fields = [*(name for name in InvoiceSerializer.Meta.fields if name != "pdf_url"), "has_pdf"]

    def get_has_pdf(self, invoice: Invoice) -> bool:
        return bool(invoice.pdf)


class StackPlanSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    currency = serializers.CharField()
    interval = serializers.CharField(help_text="month or year: what `price` is charged for.")
    price = serializers.IntegerField(help_text="The plan's fee for each interval, minor units.")


class BillingSummarySerializer(serializers.Serializer):
    store = serializers.SlugField(help_text="The token's store.")
    generated_at = serializers.DateTimeField()
    plan = StackPlanSerializer()
    subscription = SubscriptionSerializer()
    usage = UsageSerializer()
    daily_usage = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text='Per metric, each day\'s quantity this period: {"orders": {"2025-06-01": 3}}.',
    )
    invoices = StackInvoiceSerializer(many=True, help_text=f"The newest {INVOICES_SENT}.")
    invoice_count = serializers.IntegerField()


class InvoicePdfRequestSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=32)


class StandingPlanSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    limits = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        help_text=f"Per resource ({', '.join(LIMITS)}), how many the plan allows; null: unlimited.",
    )


class StandingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=Tenant.Status.choices, help_text="Only `active` is open; the stack closes the store otherwise."
    )
    suspension_reason = serializers.CharField(allow_blank=True)
    plan = StandingPlanSerializer(allow_null=True, help_text="null: the store has no subscription.")


SHARED_BILLING = "A shared store's billing is on its own billing page."


def _refuse_shared(tenant: Tenant, detail: str = SHARED_BILLING) -> Response | None:
    if tenant.is_dedicated:
        return None
    return Response({"code": "not_a_dedicated_store", "detail": detail}, status=status.HTTP_403_FORBIDDEN)


def store_standing(tenant: Tenant) -> dict[str, Any]:
    """The store's status on the platform and its plan's limits, as its stack enforces them."""
    subscription = selectors.subscription_for(tenant.pk)
    plan = subscription.plan if subscription is not None else None
    return {
        "status": tenant.status,
        "suspension_reason": tenant.suspension_reason,
        "plan": {"code": plan.code, "name": plan.name, "limits": plan_limits(plan)} if plan is not None else None,
    }


def billing_summary(tenant: Tenant) -> dict[str, Any] | None:
    """What the stack's portal shows, as the shared portal computes it; None without a subscription."""
    projected = selectors.projected_invoice(tenant)
    if projected is None:
        return None
    subscription = projected.subscription
    plan = subscription.plan
    start, end = subscription.current_period_start, subscription.current_period_end
    daily = {
        metric.value: {
            day.isoformat(): value for day, value in selectors.daily_usage(tenant.pk, metric, start, end).items()
        }
        for metric in Metric
    }
    invoices = selectors.invoices_for(tenant.pk)
    return {
        "store": tenant.slug,
        "generated_at": timezone.now(),
        "plan": {
            "code": plan.code,
            "name": plan.name,
            "currency": plan.currency,
            "interval": subscription.interval,
            "price": plan.yearly_fee if subscription.interval == Interval.YEAR else plan.monthly_fee,
        },
        "subscription": subscription,
        "usage": usage_summary(projected),
        "daily_usage": daily,
        "invoices": invoices[:INVOICES_SENT],
        "invoice_count": invoices.count(),
    }


class DedicatedBillingSummaryView(APIView):
    """A dedicated store's billing, for its stack's portal."""

    # Given the store-bound publishing token's authentication by config/urls_public.py (as the usage
    # events' view is: storefront.marketplace is a higher layer). Unset, all are refused.
    authentication_classes: list[Any] = []
    permission_classes = [ActsForAStore]

    @extend_schema(
        tags=["billing"],
        request=None,
        responses={200: BillingSummarySerializer, 403: NOT_DEDICATED, 404: NO_SUBSCRIPTION},
        parameters=[AUTHORIZATION],
    )
    def post(self, request: Request) -> Response:
        """The token's store's plan, subscription and period, usage this period per metric (and per day)
        with the projected bill, and its newest invoices: what its stack's billing page shows. The body is
        ignored: the token names the store. No token or an unknown one: 401; a shared store's: 403."""
        tenant: Tenant = request.auth  # type: ignore[assignment]
        refusal = _refuse_shared(tenant)
        if refusal is not None:
            return refusal
        summary = billing_summary(tenant)
        if summary is None:
            return Response(
                {"code": "no_subscription", "detail": "This store has no subscription."},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(BillingSummarySerializer(summary).data)


class DedicatedInvoicePdfView(APIView):
    """One of a dedicated store's invoices as a PDF, for its stack's portal."""

    authentication_classes: list[Any] = []  # as DedicatedBillingSummaryView
    permission_classes = [ActsForAStore]

    @extend_schema(
        tags=["billing"],
        request=InvoicePdfRequestSerializer,
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 403: NOT_DEDICATED, 404: OpenApiTypes.OBJECT},
        parameters=[AUTHORIZATION],
    )
    def post(self, request: Request) -> HttpResponse:
        """The PDF of the token's store's invoice `number`; any other store's number is a 404."""
        tenant: Tenant = request.auth  # type: ignore[assignment]
        refusal = _refuse_shared(tenant)
        if refusal is not None:
            return refusal
        body = InvoicePdfRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return invoice_pdf_response(tenant.pk, body.validated_data["number"])


class DedicatedStandingView(APIView):
    """A dedicated store's standing, which its stack checks: the platform is not in front of it."""

    authentication_classes: list[Any] = []  # as DedicatedBillingSummaryView
    permission_classes = [ActsForAStore]

    @extend_schema(
        tags=["billing"],
        request=None,
        responses={200: StandingSerializer, 403: NOT_DEDICATED},
        parameters=[AUTHORIZATION],
    )
    def post(self, request: Request) -> Response:
        """The token's store's status (`active`, `suspended` with its reason, `deprovisioning`,
        `deprovisioned`, ...) and its plan's limits: its stack closes the store unless it is `active` and
        stops additions at the limits. The body is ignored: the token names the store. No token or an
        unknown one: 401; a shared store's: 403 (the platform serves it, and enforces both itself)."""
        tenant: Tenant = request.auth  # type: ignore[assignment]
        refusal = _refuse_shared(tenant, "A shared store is served, and its standing enforced, by the platform.")
        if refusal is not None:
            return refusal
        return Response(StandingSerializer(store_standing(tenant)).data)
