"""Buyer accounts over the API, on the root host: sign up (`POST /api/v1/buyers`) and get a token
(`POST /api/v1/buyers/token`). The token works on every store host for buyer endpoints only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront.buyers import services
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
