"""The tenant registry's HTTP API on the root host: the platform staff's tenant list, suspend, reactivate."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import lifecycle
from tenants.models import Tenant
from tenants.permissions import IsPlatformOperator, IsPlatformStaff
from tenants.serializers import StaffTenantSerializer, SuspendSerializer


class StaffTenantListView(generics.ListAPIView):
    permission_classes = [IsPlatformStaff]
    serializer_class = StaffTenantSerializer

    def get_queryset(self) -> Any:
        tenants = Tenant.objects.order_by("-created_at")
        if wanted := self.request.query_params.get("status"):
            tenants = tenants.filter(status=wanted)
        if tenancy := self.request.query_params.get("tenancy"):
            tenants = tenants.filter(tenancy=tenancy)
        return tenants


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
