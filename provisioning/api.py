"""The staff's provisioning API on the root host: approve or reject dedicated requests, watch a run,
retry or cancel it, deprovision a stack. Platform staff only; anyone else gets 403."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import authentication, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from provisioning import selectors, services
from provisioning.models import ProvisioningRun
from provisioning.serializers import ConfirmUpgradeSerializer, ProvisioningRunSerializer, RejectSerializer
from tenants.accounts.authentication import BearerTokenAuthentication
from tenants.models import Tenant
from tenants.permissions import IsPlatformOperator, IsPlatformStaff
from tenants.serializers import StaffTenantSerializer

CONFLICT = OpenApiResponse(description="The tenant or run is not in a state that allows this; nothing changed.")
FORBIDDEN = OpenApiResponse(description="Not platform staff.")


class StaffProvisioningView(APIView):
    # Session first: DRF then answers missing or bad credentials with 403 (no WWW-Authenticate
    # challenge), the same as a non-staff user; a bearer token still authenticates.
    authentication_classes = [authentication.SessionAuthentication, BearerTokenAuthentication]
    permission_classes = [IsPlatformStaff]

    def run_or_404(self, run_id: int) -> ProvisioningRun:
        run = selectors.run_with_steps(run_id)
        if run is None:
            raise Http404("No such provisioning run.")
        return run

    def conflict(self, error: services.ProvisioningConflict) -> Response:
        return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)

    def run_response(self, run: ProvisioningRun, code: int = status.HTTP_200_OK) -> Response:
        return Response(ProvisioningRunSerializer(self.run_or_404(run.pk)).data, status=code)


class ApproveView(StaffProvisioningView):
    @extend_schema(
        request=None,
        responses={202: ProvisioningRunSerializer, 403: FORBIDDEN, 409: CONFLICT},
        summary="Approve a dedicated request: a provisioning run is queued",
    )
    def post(self, request: Request, slug: str) -> Response:
        tenant = get_object_or_404(Tenant, slug=slug)
        try:
            run = services.approve_dedicated_request(tenant, request.user)  # type: ignore[arg-type]
        except services.ProvisioningConflict as error:
            return self.conflict(error)
        return self.run_response(run, status.HTTP_202_ACCEPTED)


class RejectView(StaffProvisioningView):
    @extend_schema(
        request=RejectSerializer,
        responses={200: StaffTenantSerializer, 403: FORBIDDEN, 409: CONFLICT},
        summary="Reject a dedicated request; the reason is mailed to the merchant",
    )
    def post(self, request: Request, slug: str) -> Response:
        tenant = get_object_or_404(Tenant, slug=slug)
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            tenant = services.reject_dedicated_request(
                tenant,
                serializer.validated_data["reason"],
                request.user,  # type: ignore[arg-type]
            )
        except services.ProvisioningConflict as error:
            return self.conflict(error)
        return Response(StaffTenantSerializer(tenant).data)


class DeprovisionView(StaffProvisioningView):
    permission_classes = [IsPlatformOperator]

    @extend_schema(
        request=None,
        responses={202: ProvisioningRunSerializer, 403: FORBIDDEN, 409: CONFLICT},
        summary="Deprovision a dedicated stack: final export, destroy, record",
    )
    def post(self, request: Request, slug: str) -> Response:
        tenant = get_object_or_404(Tenant, slug=slug)
        try:
            run = services.request_deprovisioning(tenant, request.user)  # type: ignore[arg-type]
        except services.ProvisioningConflict as error:
            return self.conflict(error)
        return self.run_response(run, status.HTTP_202_ACCEPTED)


class UpgradeView(StaffProvisioningView):
    @extend_schema(
        request=None,
        responses={202: ProvisioningRunSerializer, 403: FORBIDDEN, 409: CONFLICT},
        summary="Upgrade a live shared store to dedicated: its own database, its data copied, routing switched",
    )
    def post(self, request: Request, slug: str) -> Response:
        tenant = get_object_or_404(Tenant, slug=slug)
        try:
            run = services.request_upgrade(tenant, request.user)  # type: ignore[arg-type]
        except services.ProvisioningConflict as error:
            return self.conflict(error)
        return self.run_response(run, status.HTTP_202_ACCEPTED)


class ConfirmUpgradeView(StaffProvisioningView):
    permission_classes = [IsPlatformOperator]

    @extend_schema(
        request=None,
        responses={200: ConfirmUpgradeSerializer, 403: FORBIDDEN, 409: CONFLICT},
        summary="Confirm an upgrade: the store's old shared schema is dropped",
    )
    def post(self, request: Request, slug: str) -> Response:
        tenant = get_object_or_404(Tenant, slug=slug)
        try:
            schema = services.confirm_upgrade(tenant)
        except services.ProvisioningConflict as error:
            return self.conflict(error)
        return Response({"tenant": tenant.slug, "dropped_schema": schema})


class RunDetailView(StaffProvisioningView):
    @extend_schema(
        responses={200: ProvisioningRunSerializer, 403: FORBIDDEN},
        summary="A provisioning run: its state, and each step's state, times, log and error",
    )
    def get(self, request: Request, run_id: int) -> Response:
        return Response(ProvisioningRunSerializer(self.run_or_404(run_id)).data)


class RunRetryView(StaffProvisioningView):
    @extend_schema(
        request=None,
        responses={202: ProvisioningRunSerializer, 403: FORBIDDEN, 409: CONFLICT},
        summary="Retry a failed run from its failed step",
    )
    def post(self, request: Request, run_id: int) -> Response:
        try:
            run = services.retry_run(self.run_or_404(run_id))
        except services.ProvisioningConflict as error:
            return self.conflict(error)
        return self.run_response(run, status.HTTP_202_ACCEPTED)


class RunCancelView(StaffProvisioningView):
    @extend_schema(
        request=None,
        responses={200: ProvisioningRunSerializer, 403: FORBIDDEN, 409: CONFLICT},
        summary="Cancel a run before its next step (refused past its point of no return)",
    )
    def post(self, request: Request, run_id: int) -> Response:
        try:
            run = services.cancel_run(self.run_or_404(run_id), request.user)
        except services.ProvisioningConflict as error:
            return self.conflict(error)
        return self.run_response(run)
