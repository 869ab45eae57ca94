"""Card payments' API: a store's owner connects the store's Stripe account (store host), and Stripe
tells the platform what happened to stores' payments (the Connect webhook, root host), which hands a
dedicated store's events on to its stack (the forwarded-event endpoint, the stack's store host)."""

from __future__ import annotations

import logging
from typing import Any

import stripe
from django.conf import settings
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.stripe_gateway import webhooks
from storefront.payments import forwarding, services, stripe_events
from storefront.payments.models import StripeAccount
from storefront.payments.providers import PaymentFailed
from tenants.permissions import IsStoreOwner

logger = logging.getLogger(__name__)

AccountStatus = inline_serializer(
    "StripeAccountStatus",
    {
        "account": serializers.CharField(allow_null=True),
        "details_submitted": serializers.BooleanField(),
        "charges_enabled": serializers.BooleanField(),
        "payouts_enabled": serializers.BooleanField(),
        "onboarding_url": serializers.URLField(required=False),
    },
)


def _status_body(account: StripeAccount | None) -> dict[str, Any]:
    if account is None:
        return {"account": None, "details_submitted": False, "charges_enabled": False, "payouts_enabled": False}
    return {
        "account": account.account_id,
        "details_submitted": account.details_submitted,
        "charges_enabled": account.charges_enabled,
        "payouts_enabled": account.payouts_enabled,
    }


class StripeAccountView(APIView):
    """`/api/v1/payments/stripe/account`: the store's connected account (GET), or start/continue its
    onboarding (POST: a link to Stripe, good for a few minutes). The store's owner only."""

    permission_classes = [IsStoreOwner]

    @extend_schema(responses=AccountStatus)
    def get(self, request: Request) -> Response:
        try:
            account = services.refresh_account()
        except PaymentFailed as error:
            return Response({"code": "payment_provider_unavailable", "detail": str(error)}, status=502)
        return Response(_status_body(account))

    @extend_schema(request=None, responses={200: AccountStatus, 502: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        back = request.build_absolute_uri("/admin/payments/stripeaccount/")
        try:
            account, url = services.start_onboarding(email=request.user.email, return_url=back, refresh_url=back)
        except PaymentFailed as error:
            return Response({"code": "payment_provider_unavailable", "detail": str(error)}, status=502)
        return Response({**_status_body(account), "onboarding_url": url})


@method_decorator(csrf_exempt, name="dispatch")
class ConnectWebhookView(APIView):
    """`POST /api/v1/payments/stripe/webhook` (root host): Connect events about stores' payments,
    verified with STRIPE_CONNECT_WEBHOOK_SECRET."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        try:
            event = webhooks.verified_event(
                request.body,
                request.headers.get("Stripe-Signature", ""),
                secret_setting="STRIPE_CONNECT_WEBHOOK_SECRET",
            )
        except webhooks.BadSignature as error:
            return Response({"code": "bad_signature", "detail": str(error)}, status=status.HTTP_400_BAD_REQUEST)
        except webhooks.NoSigningSecret as error:
            return Response({"code": "webhooks_not_configured", "detail": str(error)}, status=503)
        try:
            outcome = stripe_events.process_connect_event(event)
        except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as error:
            # Nothing was applied or recorded: a 5xx has Stripe deliver the event again.
            logger.warning("connect event left for redelivery", extra={"event": event.get("id"), "error": str(error)})
            return Response({"code": "stripe_unavailable", "detail": "Deliver the event again."}, status=503)
        except forwarding.StackUnavailable as error:
            logger.warning("connect event left for redelivery", extra={"event": event.get("id"), "error": str(error)})
            return Response({"code": "store_stack_unavailable", "detail": "Deliver the event again."}, status=503)
        return Response({"outcome": outcome})


class ForwardedEventSerializer(serializers.Serializer):
    event = serializers.RegexField(r"^evt_[A-Za-z0-9_]{1,250}$")
    account = serializers.RegexField(r"^acct_[A-Za-z0-9_]{1,58}$")


@method_decorator(csrf_exempt, name="dispatch")
class ForwardedConnectEventView(APIView):
    """`POST /internal/payments/stripe/events` on a dedicated store's stack: the platform hands on a Connect
    event of the store's account, signed with the key both hold (storefront.payments.forwarding). Anywhere
    else (the platform's own hosts, a stack without a publishing token) there is no such page."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        key = forwarding.stack_key()
        if settings.TENANCY_MODE != "dedicated" or not key:
            raise NotFound()
        if not forwarding.is_signed(request.body, request.headers.get(forwarding.SIGNATURE_HEADER, ""), key):
            return Response({"code": "bad_signature", "detail": "Not signed by the platform."}, status=403)
        data = ForwardedEventSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            outcome = stripe_events.apply_forwarded_event(data.validated_data["event"], data.validated_data["account"])
        except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as error:
            # Nothing was applied or recorded: the platform answers Stripe 503, and Stripe delivers it again.
            logger.warning("forwarded event left for redelivery", extra={"error": str(error)})
            return Response({"code": "stripe_unavailable", "detail": "Deliver the event again."}, status=503)
        return Response({"outcome": outcome})
