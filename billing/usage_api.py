"""The usage ingest API on a store's host: `POST /api/v1/billing/usage-events`, up to 1,000 usage events
of that store per request, each recorded once per idempotency key (billing.services.record_usage_batch)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import services
from billing.models import Metric
from billing.usage_batches import MAX_BATCH_SIZE, RowError, parse_rows
from tenants.permissions import IsStoreMember


# The request and answers as documented in OpenAPI; rows are parsed by billing.usage_batches.parse_rows
# (a serializer per row would cost more than recording the whole batch).
class UsageEventRowSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Metric.choices)
    quantity = serializers.IntegerField(min_value=0, help_text="Units of the metric (GMV: minor units).")
    idempotency_key = serializers.CharField(
        max_length=100, help_text="Your name for this event, unique per store, e.g. 'order-1001-gmv'."
    )
    occurred_at = serializers.DateTimeField(
        required=False, help_text="When it happened, ISO 8601 with offset (default: now)."
    )


class UsageEventBatchSerializer(serializers.Serializer):
    events = UsageEventRowSerializer(many=True, max_length=MAX_BATCH_SIZE, min_length=1)


class UsageIngestedSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events recorded by this request.")
    duplicates = serializers.IntegerField(help_text="Events recorded before under the same keys: nothing added.")


class RowErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The event's position in `events`, from 0.")
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
            "errors": [{"index": e.index, "code": e.code, "detail": e.message} for e in errors],
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


class UsageEventsView(APIView):
    permission_classes = [IsStoreMember]

    @extend_schema(
        tags=["billing"],
        request=UsageEventBatchSerializer,
        responses={200: UsageIngestedSerializer, 400: UsageRefusedSerializer},
        examples=[
            OpenApiExample(
                "Two events of an order",
                request_only=True,
                value={
                    "events": [
                        {"metric": "orders", "quantity": 1, "idempotency_key": "order-1001"},
                        {
                            "metric": "gmv",
                            "quantity": 4_250,
                            "idempotency_key": "order-1001-gmv",
                            "occurred_at": "2025-06-01T09:30:00Z",
                        },
                    ]
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        """Report this store's usage: 1 to 1,000 events, all recorded or none. Each event is counted once
        per `idempotency_key`: resending a request (after a timeout, say) answers its events as
        `duplicates` and adds nothing. Refused (400, nothing recorded): an unknown metric or field, a
        negative or fractional quantity, a missing or over-long key, a time more than 5 minutes ahead, a
        key already used for other usage; `errors` names each refused event by its index."""
        body = request.data
        rows = body.get("events") if isinstance(body, dict) else None
        events, errors = parse_rows(request.tenant.pk, rows)  # type: ignore[attr-defined]
        if errors:
            return refused(errors)
        try:
            batch = services.record_usage_batch(events)
        except services.UsageRefused as refusal:
            return refused(refusal.errors)
        return Response({"accepted": batch.accepted, "duplicates": batch.duplicates})
