"""HTTP side of the Stripe integration: Checkout and Billing Portal links for a store's owner (store
host), and the webhook endpoint Stripe calls (root host)."""

from __future__ import annotations

import logging
from typing import Any

import stripe
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import selectors
from billing.errors import BillingError
from billing.rating import Interval
from billing.stripe_gateway import services, webhooks
from tenants.permissions import IsStoreOwner
from tenants.routing import store_url

logger = logging.getLogger(__name__)

URL_RESPONSE = inline_serializer("StripeRedirect", {"url": serializers.URLField()})
REFUSED = OpenApiResponse(description='Refused: {"code": "...", "detail": "..."}')


class CheckoutRequestSerializer(serializers.Serializer):
    plan = serializers.CharField(max_length=40, help_text="The plan's code; default: the store's current plan.")
    interval = serializers.ChoiceField(choices=[i.value for i in Interval], default=Interval.MONTH.value)
    success_url = serializers.URLField(required=False)
    cancel_url = serializers.URLField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].required = False


def _refused(error: BillingError) -> Response:
    return Response({"code": error.code, "detail": error.message}, status=status.HTTP_400_BAD_REQUEST)


class CheckoutView(APIView):
    permission_classes = [IsStoreOwner]

    @extend_schema(tags=["billing"], request=CheckoutRequestSerializer, responses={201: URL_RESPONSE, 400: REFUSED})
    def post(self, request: Request) -> Response:
        """Start Stripe Checkout (subscription mode) for a plan: answers the URL to send the owner to."""
        body = CheckoutRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tenant = request.tenant  # type: ignore[attr-defined]
        subscription = selectors.subscription_for(tenant.pk)
        code = body.validated_data.get("plan") or (subscription.plan.code if subscription else "")
        plan = selectors.public_plan(code.strip().lower())
        if plan is None or plan.tenancy != tenant.tenancy:
            return _refused(BillingError(f"Unknown plan '{code}'.", "unknown_plan"))
        home = store_url(tenant.slug)
        try:
            url = services.start_checkout(
                tenant,
                plan,
                Interval(body.validated_data["interval"]),
                success_url=body.validated_data.get("success_url") or f"{home}admin/billing/?checkout=done",
                cancel_url=body.validated_data.get("cancel_url") or f"{home}admin/billing/",
            )
        except BillingError as error:
            return _refused(error)
        return Response({"url": url}, status=status.HTTP_201_CREATED)


class PortalView(APIView):
    permission_classes = [IsStoreOwner]

    @extend_schema(tags=["billing"], request=None, responses={201: URL_RESPONSE})
    def post(self, request: Request) -> Response:
        """A Stripe Billing Portal session, where the owner manages payment methods."""
        tenant = request.tenant  # type: ignore[attr-defined]
        url = services.portal_url(tenant, f"{store_url(tenant.slug)}admin/billing/")
        return Response({"url": url}, status=status.HTTP_201_CREATED)


@method_decorator(csrf_exempt, name="dispatch")
class WebhookView(APIView):
    """`POST /api/v1/billing/stripe/webhook`: Stripe's events, verified with STRIPE_WEBHOOK_SECRET."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(tags=["billing"], request=None, responses={200: None, 400: REFUSED, 503: REFUSED})
    def post(self, request: Request) -> Response:
        try:
            event = webhooks.verified_event(request.body, request.headers.get("Stripe-Signature", ""))
        except webhooks.BadSignature as error:
            return Response({"code": "bad_signature", "detail": str(error)}, status=status.HTTP_400_BAD_REQUEST)
        except webhooks.NoSigningSecret as error:
            # Stripe retries a 5xx, so its events are delivered once the secret is configured.
            return Response(
                {"code": "webhooks_not_configured", "detail": str(error)}, status=status.HTTP_503_SERVICE_UNAVAILABLE
            )
        try:
            outcome = webhooks.process_event(event)
        except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as error:
            # The re-fetch failed, so nothing was applied or recorded: a 5xx has Stripe deliver it again.
            logger.warning("stripe event left for redelivery", extra={"event": event.get("id"), "error": str(error)})
            detail = "Stripe's API did not answer the re-fetch; nothing was applied. Deliver the event again."
            return Response(
                {"code": "stripe_unavailable", "detail": detail}, status=status.HTTP_503_SERVICE_UNAVAILABLE
            )
        return Response({"outcome": outcome})
