"""Buyer accounts over the API, on the root host: sign up (`POST /api/v1/buyers`), get a token
(`POST /api/v1/buyers/token`), and the buyer's own account with it (`GET/PATCH/DELETE /api/v1/buyers/me`).
The token works on every store host for buyer endpoints only; a dedicated store's stack asks here who holds
one (`POST /api/v1/buyers/token/check`)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from storefront.buyers import services
from storefront.buyers.authentication import BuyerTokenAuthentication, request_buyer
from storefront.buyers.models import Buyer
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


class IsBuyerOnRootHost(permissions.BasePermission):
    """A buyer's token, on the marketplace's own host: a store's staff token is no buyer's (401)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return request_buyer(request) is not None and on_root_host()


class BuyerProfileSerializer(serializers.ModelSerializer):
    postcode = serializers.CharField(
        max_length=16, required=False, allow_blank=True, help_text="A UK postcode (HX7 8AD) or its first part (HX7)."
    )
    email_verified = serializers.BooleanField(source="is_email_verified", read_only=True)

    class Meta:
        model = Buyer
        fields = ["id", "email", "name", "town", "postcode", "email_verified", "email_verified_at"]
        read_only_fields = ["id", "email", "email_verified_at"]


class CloseAccountSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=128, write_only=True, help_text="The account's password.")


class BuyerMeView(APIView):
    """The buyer's own account. Closing it (DELETE, with the password) deactivates and empties it; its
    tokens stop working at once on every store host (within a minute on a dedicated store's)."""

    authentication_classes = [BuyerTokenAuthentication]
    permission_classes = [IsBuyerOnRootHost]

    def get_throttles(self) -> list[BaseThrottle]:
        # Only the password-checking DELETE shares the sign-in's allowance; reading and editing are free
        # (the scoped throttle lets a view with no scope through).
        self.throttle_scope = "auth" if self.request.method == "DELETE" else ""
        return super().get_throttles()

    def _account(self, request: Request) -> Buyer:
        buyer = request_buyer(request)
        account = services.active_buyer_account(buyer.id) if buyer is not None else None
        if account is None:  # closed between the token check and here
            raise exceptions.AuthenticationFailed("Invalid or revoked buyer token.")
        return account

    @extend_schema(responses={200: BuyerProfileSerializer}, tags=["buyers"])
    def get(self, request: Request) -> Response:
        return Response(BuyerProfileSerializer(self._account(request)).data)

    @extend_schema(request=BuyerProfileSerializer, responses={200: BuyerProfileSerializer}, tags=["buyers"])
    def patch(self, request: Request) -> Response:
        account = self._account(request)
        data = BuyerProfileSerializer(account, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            services.update_profile(account, **data.validated_data)
        except services.BuyerRefused as error:
            return Response(error.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(BuyerProfileSerializer(account).data)

    @extend_schema(request=CloseAccountSerializer, responses={204: None, 400: OpenApiTypes.OBJECT}, tags=["buyers"])
    def delete(self, request: Request) -> Response:
        account = self._account(request)
        data = CloseAccountSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.close_account(account, data.validated_data["password"])
        except services.BuyerRefused as error:
            return Response(error.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(status=status.HTTP_204_NO_CONTENT)
