"""The usage ingest API, platform-internal: `POST /api/v1/staff/usage-events` on the root host, up to
1,000 usage events of any stores per request, each recorded once per store and idempotency key
(billing.services.record_usage_batch). Platform operators may call it, or a service holding
USAGE_INGEST_TOKEN (for corrections, imports and the platform's own jobs). Stores do not report their own
usage: the platform measures it (orders when paid, billing.api_metering, billing.storage_metering), and
the store host's old route answers 403 to the store's own people. A dedicated store's stack measures it
in its own database and hands it over at `POST /api/v1/dedicated/usage-events` (billing.usage_forwarding)."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import authentication, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import services
from billing.models import Metric
from billing.usage_batches import MAX_BATCH_SIZE, RowError, parse_rows, store_slugs
from tenants.accounts.authentication import BearerTokenAuthentication
from tenants.models import Tenant
from tenants.permissions import IsPlatformOperator, IsStoreMember, on_root_host


# The request and answers as documented in OpenAPI; rows are parsed by billing.usage_batches.parse_rows
# (a serializer per row would cost more than recording the whole batch).
class UsageEventRowSerializer(serializers.Serializer):
    store = serializers.SlugField(help_text="The store's slug, e.g. 'bakery'.")
    metric = serializers.ChoiceField(choices=Metric.choices)
    quantity = serializers.IntegerField(min_value=0, help_text="Units of the metric (GMV: minor units).")
    idempotency_key = serializers.CharField(
        max_length=100, help_text="The sender's name for this event, unique per store, e.g. 'correction-1001'."
    )
    occurred_at = serializers.DateTimeField(
        required=False, help_text="When it happened, ISO 8601 with offset (default: now)."
    )


class UsageEventBatchSerializer(serializers.Serializer):
    events = UsageEventRowSerializer(many=True, max_length=MAX_BATCH_SIZE, min_length=1)


class DedicatedUsageEventRowSerializer(UsageEventRowSerializer):
    store = None  # type: ignore[assignment]  # the caller's token names the store


class DedicatedUsageEventBatchSerializer(serializers.Serializer):
    events = DedicatedUsageEventRowSerializer(many=True, max_length=MAX_BATCH_SIZE, min_length=1)


class UsageIngestedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events recorded by this request.")
    duplicates = serializers.IntegerField(help_text="Events recorded before under the same keys: nothing added.")


class RowErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The event's position in `events`, from 0.")
    field = serializers.CharField(help_text="The event's field at fault; empty for the event or batch as a whole.")
    code = serializers.CharField()
    detail = serializers.CharField()


class UsageRefusedSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = RowErrorSerializer(many=True)


def refused(errors: list[RowError]) -> Response:
    detail = errors[0].message if len(errors) == 1 else f"{len(errors)} usage events were refused."
    return Response(
        {
            "code": "usage_refused",
            "detail": f"{detail} Nothing was recorded.",
            "errors": [{"index": e.index, "field": e.field, "code": e.code, "detail": e.message} for e in errors],
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


def record_rows(rows: Any, tenant_ids: dict[str, int]) -> Response:
    """Record the ingest API's ``events``, given the ids of the stores they may name: the counts, or 400
    naming every refused event (nothing recorded)."""
    events, errors = parse_rows(rows, tenant_ids)
    if errors:
        return refused(errors)
    try:
        batch = services.record_usage_batch(events)
    except services.UsageRefused as refusal:
        return refused(refusal.errors)
    return Response({"accepted": batch.accepted, "duplicates": batch.duplicates})


class UsageIngestService:
    """Who a request holding USAGE_INGEST_TOKEN acts as: the platform's own service, no person."""


class UsageIngestTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <USAGE_INGEST_TOKEN>` on the root host (compared in constant time). Any
    other bearer token is left to the account authentication that follows."""

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[None, UsageIngestService] | None:
        expected = settings.USAGE_INGEST_TOKEN
        header = authentication.get_authorization_header(request).split()
        if not expected or len(header) != 2 or header[0].lower() != b"bearer" or not on_root_host():
            return None
        if not hmac.compare_digest(header[1], expected.encode()):
            return None
        return None, UsageIngestService()

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


class IsUsageIngestService(permissions.BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.auth, UsageIngestService)


class StaffUsageEventsView(APIView):
    authentication_classes = [UsageIngestTokenAuthentication, BearerTokenAuthentication]
    # Operators only among staff: recorded usage is billed and never taken back.
    permission_classes = [IsUsageIngestService | IsPlatformOperator]

    @extend_schema(
        tags=["billing"],
        request=UsageEventBatchSerializer,
        responses={200: UsageIngestedSerializer, 400: UsageRefusedSerializer},
        examples=[
            OpenApiExample(
                "A correction of two stores' usage",
                request_only=True,
                value={
                    "events": [
                        {"store": "bakery", "metric": "orders", "quantity": 1, "idempotency_key": "fix-1001"},
                        {
                            "store": "pottery",
                            "metric": "api_requests",
                            "quantity": 4_250,
                            "idempotency_key": "fix-1002",
                            "occurred_at": "2025-06-01T09:30:00Z",
                        },
                    ]
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        """Record usage of any stores (platform operators or the usage ingest service only): 1 to 1,000
        events, all recorded or none, each naming its store by slug. Each event is counted once per store
        and `idempotency_key`: resending a request (after a timeout, say) answers its events as
        `duplicates` and adds nothing. Refused (400, nothing recorded): an unknown store, metric or field,
        a negative or fractional quantity, a missing or over-long key, a time more than 5 minutes ahead, a
        key already used for other usage; `errors` names each refused event by its index."""
        body = request.data
        rows = body.get("events") if isinstance(body, dict) else None
        slugs = store_slugs(rows)
        tenant_ids = dict(Tenant.objects.filter(slug__in=slugs).values_list("slug", "pk")) if slugs else {}
        return record_rows(rows, tenant_ids)


class ActsForAStore(permissions.BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.auth, Tenant)


class DedicatedUsageEventsView(APIView):
    """A dedicated store's stack hands over the usage it recorded in its own database
    (billing.usage_forwarding). The caller's credential, not the body, names the store."""

    # The stack's store-bound credential is storefront.marketplace's publishing token, which billing (a
    # lower layer) cannot name: config/urls_public.py passes its authentication in. Unset, all are refused.
    authentication_classes: list[Any] = []
    permission_classes = [ActsForAStore]

    @extend_schema(
        tags=["billing"],
        request=DedicatedUsageEventBatchSerializer,
        responses={
            200: UsageIngestedSerializer,
            400: UsageRefusedSerializer,
            403: OpenApiResponse(description='A shared store\'s token: {"code": "usage_measured_by_platform", ...}'),
        },
        parameters=[OpenApiParameter("Authorization", location="header", required=True, description="Bearer lbp_...")],
    )
    def post(self, request: Request) -> Response:
        """Record a dedicated store's usage, measured by its own stack, with the store's publishing token:
        1 to 1,000 events, all recorded or none, each counted once per `idempotency_key` (a resent batch
        answers its events as `duplicates`), in the period of its `occurred_at`. Refused (400, nothing
        recorded) as the internal ingest API refuses events, `errors` naming each by index and field; an
        event naming another store is refused too. A shared store's token gets 403: the platform measures
        a shared store's usage itself."""
        tenant: Tenant = request.auth  # type: ignore[assignment]
        if not tenant.is_dedicated:
            return Response(
                {
                    "code": "usage_measured_by_platform",
                    "detail": "Only a dedicated store's stack reports its usage; the platform measures this store's. "
                    "Nothing was recorded.",
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        body = request.data
        rows = body.get("events") if isinstance(body, dict) else None
        if isinstance(rows, list):
            # Each event is the token's store's: one naming another is refused as an unknown store.
            rows = [{"store": tenant.slug, **row} if isinstance(row, dict) else row for row in rows]
        return record_rows(rows, {tenant.slug: tenant.pk})


class StoreUsageEventsView(APIView):
    """The store host's former ingest route: stores no longer report their own usage."""

    permission_classes = [IsStoreMember]

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        return Response(
            {
                "code": "usage_measured_by_platform",
                "detail": "Usage is measured by the platform; stores cannot report their own. Nothing was recorded.",
            },
            status=status.HTTP_403_FORBIDDEN,
        )
