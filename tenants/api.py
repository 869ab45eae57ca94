"""The tenant registry's HTTP API on the root host: signup and the platform staff's tenant list."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import services
from tenants.models import Tenant
from tenants.serializers import (
    SignupResponseSerializer,
    SignupSerializer,
    StaffTenantSerializer,
    SuspendSerializer,
    TenantSummarySerializer,
)


class SignupView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    throttle_scope = "signup"

    @extend_schema(request=SignupSerializer, responses={201: SignupResponseSerializer})
    def post(self, request: Request) -> Response:
        serializer = SignupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = services.sign_up_merchant(services.SignupRequest(**serializer.validated_data))
        except services.SignupError as error:
            return Response(error.errors, status=status.HTTP_400_BAD_REQUEST)
        body = {"tenant": TenantSummarySerializer(result.tenant).data, "token": result.token}
        return Response(body, status=status.HTTP_201_CREATED)


class IsPlatformStaff(permissions.BasePermission):
    message = "Only platform staff may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


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
    permission_classes = [IsPlatformStaff]

    @extend_schema(request=SuspendSerializer, responses={200: StaffTenantSerializer})
    def post(self, request: Request, slug: str) -> Response:
        tenant = get_object_or_404(Tenant, slug=slug)
        serializer = SuspendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = services.suspend_tenant(tenant, serializer.validated_data["reason"])
        return Response(StaffTenantSerializer(tenant).data)


class StaffReactivateView(APIView):
    permission_classes = [IsPlatformStaff]

    @extend_schema(request=None, responses={200: StaffTenantSerializer})
    def post(self, request: Request, slug: str) -> Response:
        tenant = get_object_or_404(Tenant, slug=slug)
        try:
            tenant = services.reactivate_tenant(tenant)
        except ValueError as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        return Response(StaffTenantSerializer(tenant).data)
