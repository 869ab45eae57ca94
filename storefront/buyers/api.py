"""Buyer accounts over the API, on the root host: sign up (`POST /api/v1/buyers`) and get a token
(`POST /api/v1/buyers/token`). The token works on every store host for buyer endpoints only; a dedicated
store's stack asks here who holds one (`POST /api/v1/buyers/token/check`)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront.buyers import services
from storefront.marketplace.api import PublishingTokenAuthentication
from tenants.models import Tenant
from tenants.permissions import on_root_host


class BuyerSignupSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class BuyerLoginSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True)


class OnRootHost(permissions.BasePermission):
    message = "Buyer accounts are made on the marketplace's own address."

    def has_permission(self, request: Any, view: Any) -> bool:
        return on_root_host()


class BuyerSignupView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [OnRootHost]
    throttle_scope = "signup"

    @extend_schema(request=BuyerSignupSerializer)
    def post(self, request: Request) -> Response:
        data = BuyerSignupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            buyer = services.register_buyer(**data.validated_data)
        except services.BuyerRefused as error:
            return Response(error.errors, status=status.HTTP_400_BAD_REQUEST)
        body = {"buyer": {"id": buyer.pk, "email": buyer.email, "name": buyer.name}}
        return Response({**body, "token": services.issue_buyer_token(buyer)}, status=status.HTTP_201_CREATED)


class BuyerTokenView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [OnRootHost]
    throttle_scope = "auth"

    @extend_schema(request=BuyerLoginSerializer)
    def post(self, request: Request) -> Response:
        data = BuyerLoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        buyer = services.buyer_for_credentials(**data.validated_data)
        if buyer is None:
            return Response({"non_field_errors": ["Email or password is wrong."]}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"token": services.issue_buyer_token(buyer)})


class BuyerTokenCheckSerializer(serializers.Serializer):
    digest = serializers.RegexField(r"^[0-9a-f]{64}$", max_length=64, help_text="SHA-256 of the buyer's token, hex")


class BuyerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()


class IsDedicatedStack(permissions.BasePermission):
    message = "Only a dedicated store's stack asks the platform who holds a buyer token."

    def has_permission(self, request: Any, view: Any) -> bool:
        return on_root_host() and isinstance(request.auth, Tenant) and request.auth.is_dedicated


class BuyerTokenCheckView(APIView):
    """Who holds a buyer token, for a dedicated store's stack (its database has no buyers; see
    storefront.buyers.control_plane). Authenticated with the store's publishing token, and only a dedicated
    store's: a shared store reads `public` itself. The stack sends the token's SHA-256, never the token."""

    authentication_classes = [PublishingTokenAuthentication]
    permission_classes = [IsDedicatedStack]

    @extend_schema(request=BuyerTokenCheckSerializer, responses={200: BuyerSerializer, 404: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = BuyerTokenCheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        buyer = services.buyer_for_digest(data.validated_data["digest"])
        if buyer is None:
            body = {"code": "unknown_buyer_token", "detail": "No active buyer holds this token."}
            return Response(body, status=status.HTTP_404_NOT_FOUND)
        return Response({"id": buyer.id, "email": buyer.email, "name": buyer.name})
