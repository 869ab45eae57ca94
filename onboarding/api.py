"""`POST /api/v1/signup` on the root host: a merchant's store, as the signup form makes it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from onboarding import services
from onboarding.serializers import SignupResponseSerializer, SignupSerializer
from tenants.serializers import TenantSummarySerializer


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
