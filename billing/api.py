"""Billing's HTTP API: the public plan catalog on the root host, and the customer portal on a store's
host (`/api/v1/billing/...`, the store's owner only). On a dedicated store's stack the portal's reads answer
the control plane's billing of the store (billing.control_plane, with a `Billing-As-Of` header), 503
`billing_unavailable` when it cannot be asked and no copy is kept; its changes answer 409 `managed_by_platform`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import control_plane, invoicing, selectors, services
from billing.errors import BillingError
from billing.limits import PlanLimitReached
from billing.serializers import (
    ChangePlanRequestSerializer,
    InvoiceSerializer,
    PlanChangeSerializer,
    PlanSerializer,
    RetryPaymentSerializer,
    SubscriptionSerializer,
    UsageSerializer,
    plan_change_summary,
    retry_summary,
    usage_summary,
)
from tenants.permissions import IsStoreOwner

NO_SUBSCRIPTION = "This store has no subscription."
# How each refusal reads over HTTP; anything else is the customer's request to fix (400).
ERROR_STATUS = {
    "no_subscription": status.HTTP_404_NOT_FOUND,
    "subscription_canceled": status.HTTP_409_CONFLICT,
    "nothing_due": status.HTTP_409_CONFLICT,
    "not_local": status.HTTP_409_CONFLICT,
    "managed_by_platform": status.HTTP_409_CONFLICT,
}
REFUSED = OpenApiResponse(description='Refused: {"code": "...", "detail": "..."}')


class PlanLimitExceeded(APIException):
    """402 for any API that would take a store past its plan's limits:
    {"code": "plan_limit_reached", "detail": ..., "resource": ..., "limit": ..., "upgrade_url": ...}."""

    status_code = status.HTTP_402_PAYMENT_REQUIRED
    default_code = "plan_limit_reached"

    def __init__(self, error: PlanLimitReached) -> None:
        super().__init__(detail=error.message, code=error.code)
        # DRF answers a dict detail as it is (its own conversion would turn the limit into a string).
        self.detail = {  # type: ignore[assignment]
            "code": error.code,
            "detail": error.message,
            "resource": error.resource,
            "limit": error.limit,
            "upgrade_url": error.upgrade_url,
        }


def refused(error: BillingError) -> Response:
    return Response(
        {"code": error.code, "detail": error.message}, status=ERROR_STATUS.get(error.code, status.HTTP_400_BAD_REQUEST)
    )


def managed_on_platform() -> Response:
    """A dedicated store's stack: its billing changes are made on the platform."""
    return refused(BillingError(control_plane.MANAGED_ON_PLATFORM, "managed_by_platform"))


def platform_answer(shape: Callable[[control_plane.PlatformBilling], Any]) -> Response:
    """A dedicated store's stack: ``shape`` of the control plane's billing, dated by `Billing-As-Of`."""
    try:
        billing = control_plane.platform_billing()
    except control_plane.NoPlatformSubscription as error:
        raise NotFound(NO_SUBSCRIPTION) from error
    except control_plane.BillingUnavailable:
        return Response(
            {"code": "billing_unavailable", "detail": "Billing is unavailable right now; try again in a minute."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    return Response(shape(billing), headers={"Billing-As-Of": billing.as_of.isoformat()})


def platform_invoices(billing: control_plane.PlatformBilling) -> dict[str, Any]:
    """The newest invoices in the list's page shape, their PDFs linked on this host."""
    results = InvoiceSerializer(billing.invoices(), many=True).data
    return {"count": billing.summary["invoice_count"], "next": None, "previous": None, "results": results}


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
        if control_plane.is_dedicated_stack():
            return platform_answer(lambda billing: billing.summary["subscription"])
        subscription = selectors.subscription_for(request.tenant.pk)  # type: ignore[attr-defined]
        if subscription is None:
            raise NotFound(NO_SUBSCRIPTION)
        return Response(SubscriptionSerializer(subscription).data)


class UsageView(APIView):
    permission_classes = [IsStoreOwner]

    @extend_schema(tags=["billing"], responses={200: UsageSerializer, 404: REFUSED})
    def get(self, request: Request) -> Response:
        """This period's usage per metric and the projected invoice due when the period ends."""
        if control_plane.is_dedicated_stack():
            return platform_answer(lambda billing: billing.summary["usage"])
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
        if control_plane.is_dedicated_stack():
            return platform_answer(platform_invoices)
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
        if control_plane.is_dedicated_stack():
            return managed_on_platform()
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


def _subscription_of(request: Request) -> Any:
    subscription = selectors.subscription_for(request.tenant.pk)  # type: ignore[attr-defined]
    if subscription is None:
        raise NotFound(NO_SUBSCRIPTION)
    return subscription


class CancelView(APIView):
    permission_classes = [IsStoreOwner]

    @extend_schema(tags=["billing"], request=None, responses={200: SubscriptionSerializer, 404: REFUSED, 409: REFUSED})
    def post(self, request: Request) -> Response:
        """Cancel at the end of the current period: the store runs until then, the last invoice bills
        the period's usage and no new fee; then the subscription ends and the store closes to buyers."""
        if control_plane.is_dedicated_stack():
            return managed_on_platform()
        try:
            subscription = services.cancel_at_period_end(_subscription_of(request))
        except BillingError as error:
            return refused(error)
        return Response(SubscriptionSerializer(subscription).data)


class ResumeView(APIView):
    permission_classes = [IsStoreOwner]

    @extend_schema(tags=["billing"], request=None, responses={200: SubscriptionSerializer, 404: REFUSED, 409: REFUSED})
    def post(self, request: Request) -> Response:
        """Undo a cancellation before the period ends: the subscription renews as before."""
        if control_plane.is_dedicated_stack():
            return managed_on_platform()
        try:
            subscription = services.resume_subscription(_subscription_of(request))
        except BillingError as error:
            return refused(error)
        return Response(SubscriptionSerializer(subscription).data)


class RetryPaymentView(APIView):
    permission_classes = [IsStoreOwner]

    @extend_schema(tags=["billing"], request=None, responses={200: RetryPaymentSerializer, 404: REFUSED, 409: REFUSED})
    def post(self, request: Request) -> Response:
        """Collect the open invoices again; paid up, the subscription is active and a store closed for
        non-payment reopens."""
        if control_plane.is_dedicated_stack():
            return managed_on_platform()
        try:
            outcomes = services.retry_payment(_subscription_of(request))
        except BillingError as error:
            return refused(error)
        subscription = _subscription_of(request)
        return Response(RetryPaymentSerializer(retry_summary(subscription, outcomes)).data)


class InvoicePdfView(APIView):
    permission_classes = [IsStoreOwner]

    @extend_schema(tags=["billing"], responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: REFUSED})
    def get(self, request: Request, number: str) -> HttpResponse:
        """The invoice as a PDF (this store's invoices only; any other number is a 404)."""
        if control_plane.is_dedicated_stack():
            try:
                pdf = control_plane.invoice_pdf(number)
            except control_plane.BillingUnavailable:
                return Response({"code": "billing_unavailable"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
            if pdf is None:
                raise Http404("No such invoice.")
            return pdf_response(pdf, number)
        return invoice_pdf_response(request.tenant.pk, number)  # type: ignore[attr-defined]


def invoice_pdf_response(tenant_id: int, number: str) -> HttpResponse:
    invoice = selectors.invoices_for(tenant_id).filter(number=number).exclude(pdf="").first()
    if invoice is None:
        raise Http404("No such invoice.")
    return pdf_response(invoicing.open_invoice_pdf(invoice), invoice.number)


def pdf_response(pdf: Any, number: str) -> HttpResponse:
    """An invoice's PDF (bytes or an open file), shown inline and never kept by a shared cache."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
