"""The tenant registry's HTTP API on the root host: the platform staff's tenant list (the console's search,
filters, sorts and keyset pages, tenants.console_list), suspend, reactivate."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.http import urlencode
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import console_extensions, console_list, lifecycle
from tenants.models import Tenant
from tenants.permissions import IsPlatformOperator, IsPlatformStaff
from tenants.serializers import StaffTenantSerializer, SuspendSerializer

LIMITS = (1, 200)


def page_limit(raw: str | None) -> int:
    """The page size asked for, within LIMITS; console_list's page size when absent or not a number."""
    try:
        asked = int(raw or console_list.PAGE_SIZE)
    except ValueError:
        asked = console_list.PAGE_SIZE
    return min(max(asked, LIMITS[0]), LIMITS[1])


class _TenantListSchema(AutoSchema):
    """The list's parameters include the filters billing and provisioning register when Django starts, so
    they are read when the schema is made, not when this module is imported."""

    def get_override_parameters(self) -> list[Any]:
        registered = [
            OpenApiParameter(
                list_filter.param,
                OpenApiTypes.STR,
                description=f"{list_filter.label}: "
                + ("one of the console's choices" if list_filter.choices else "`1` to narrow to these"),
                enum=None if list_filter.choices else ["1"],
            )
            for list_filter in console_extensions.list_filters()
        ]
        return [*super().get_override_parameters(), *registered]


@extend_schema(
    summary="Platform staff: the tenant list, searched, filtered, sorted and paged by cursor",
    parameters=[
        OpenApiParameter("q", OpenApiTypes.STR, description="A part of a name, slug, owner's email or hostname."),
        OpenApiParameter("status", OpenApiTypes.STR, enum=Tenant.Status.values),
        OpenApiParameter("tenancy", OpenApiTypes.STR, enum=Tenant.Tenancy.values),
        OpenApiParameter("sort", OpenApiTypes.STR, enum=list(console_list.SORTS), default=console_list.DEFAULT_SORT),
        OpenApiParameter(
            "after",
            OpenApiTypes.STR,
            description="The cursor of the page before, as `next` holds it; one not made here gives the first page.",
        ),
        OpenApiParameter(
            "limit",
            OpenApiTypes.INT,
            description=f"Tenants per page, {LIMITS[0]} to {LIMITS[1]} (others are brought within).",
            default=console_list.PAGE_SIZE,
        ),
    ],
    responses={
        200: inline_serializer(
            "StaffTenantPage",
            {
                "results": StaffTenantSerializer(many=True),
                "next": serializers.URLField(allow_null=True, help_text="The next page, or null on the last."),
            },
        )
    },
)
class StaffTenantListView(APIView):
    """Values not understood (an unknown status, sort or filter value, a cursor not made here) are ignored, as
    in the console: no OFFSET, no COUNT, and a deep page costs what the first does."""

    permission_classes = [IsPlatformStaff]
    schema = _TenantListSchema()

    def get(self, request: Request) -> Response:
        params = request.query_params
        filters = console_extensions.list_filters()
        # A filter's choices cost a query: asked for only when the filter is used.
        choices = {f.param: f.choices() for f in filters if f.choices is not None and params.get(f.param)}
        query = console_list.parse_query(params, filters, choices)
        limit = page_limit(params.get("limit"))
        page = console_list.tenant_page(query, filters, size=limit)
        next_url = None
        if page.next_cursor:
            more = {"after": page.next_cursor} | ({"limit": str(limit)} if limit != console_list.PAGE_SIZE else {})
            next_url = request.build_absolute_uri(f"{request.path}?{urlencode(query.as_params(**more))}")
        return Response({"results": StaffTenantSerializer(page.tenants, many=True).data, "next": next_url})


class StaffSuspendView(APIView):
    permission_classes = [IsPlatformOperator]

    @extend_schema(request=SuspendSerializer, responses={200: StaffTenantSerializer})
    def post(self, request: Request, slug: str) -> Response:
        tenant = get_object_or_404(Tenant, slug=slug)
        serializer = SuspendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            tenant = lifecycle.suspend(
                tenant, serializer.validated_data["reason"], by=lifecycle.Actor.user(request.user)
            )
        except lifecycle.IllegalTransition as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        return Response(StaffTenantSerializer(tenant).data)


class StaffReactivateView(APIView):
    permission_classes = [IsPlatformStaff]

    @extend_schema(request=None, responses={200: StaffTenantSerializer})
    def post(self, request: Request, slug: str) -> Response:
        tenant = get_object_or_404(Tenant, slug=slug)
        try:
            tenant = lifecycle.reactivate(tenant, by=lifecycle.Actor.user(request.user))
        except lifecycle.IllegalTransition as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        return Response(StaffTenantSerializer(tenant).data)
