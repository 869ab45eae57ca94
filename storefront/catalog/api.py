"""The catalog's API on a store host, for that store's members: products, categories, the seller
profile, CSV import and export. Views parse and shape; `services`, `imports` and `selectors` do the work."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, parsers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from billing.api import PlanLimitExceeded
from billing.limits import PlanLimitReached
from storefront.catalog import imports, page_cache, selectors, services
from storefront.catalog import openapi as _openapi  # noqa: F401  (registers the bearer scheme)
from storefront.catalog.downloads import error_report_response, export_response
from storefront.catalog.filters import ProductFilter
from storefront.catalog.models import Category, ImportJob, Product
from storefront.catalog.pagination import CatalogPagination, ProductRowsPagination
from storefront.catalog.serializers import (
    CategorySerializer,
    ImportJobSerializer,
    ImportUploadSerializer,
    ProductSerializer,
    SellerProfileSerializer,
)
from tenants.permissions import IsStoreMember

T = TypeVar("T")
CSV_RESPONSE = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV in the catalog's format.")}


def _refusing(change: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a catalog service; what it refuses becomes a 400 with field errors."""
    try:
        return change(*args, **kwargs)
    except services.CatalogError as error:
        raise ValidationError(error.errors) from error
    except PlanLimitReached as error:
        raise PlanLimitExceeded(error) from error


class WritesThroughServices(viewsets.ModelViewSet):
    """A model viewset whose writes go through the catalog's services (the serializer only validates)."""

    create_with: Callable[..., Any]
    update_with: Callable[..., Any]
    delete_with: Callable[[Any], None]

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        serializer.instance = _refusing(self.create_with, **serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        serializer.instance = _refusing(self.update_with, serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: Any) -> None:
        _refusing(self.delete_with, instance)


class ProductViewSet(WritesThroughServices):
    """`/api/v1/products`: list (filter, search with `q`, order, paginate), create, read, change, delete."""

    serializer_class = ProductSerializer
    permission_classes = [IsStoreMember]
    pagination_class = ProductRowsPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter
    # Ids only: `products/import` and `products/export` are never taken for a product id.
    lookup_value_regex = "[0-9]+"

    create_with = staticmethod(services.create_product)
    update_with = staticmethod(services.update_product)
    delete_with = staticmethod(services.delete_product)

    def get_queryset(self) -> QuerySet[Product]:
        return selectors.products()

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Building the FilterSet deep-copies every filter, about a millisecond a request: a list that
        # asks for no filter (the common case) skips it. Any filter parameter is validated as before.
        if not any(name in self.request.query_params for name in ProductFilter.base_filters):
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        renderer = request.accepted_renderer
        if not isinstance(renderer, JSONRenderer):  # the browsable API: not worth caching
            return self._page_response()
        # Every member of the store sees the same list: a page is cached, as the JSON it is sent as, by
        # what shapes it (the host and scheme its links use, the query, the media type) until the catalog
        # changes (page_cache.catalog_changed). Permissions and the token were checked before this.
        shape = f"{request.scheme}://{request.get_host()}?{sorted(request.query_params.lists())}"
        key = hashlib.sha256(f"{shape} {request.accepted_media_type}".encode()).hexdigest()
        body, generation = page_cache.cached_product_page(key)
        if body is None:
            data = self._page_response().data
            body = renderer.render(data, request.accepted_media_type, self.get_renderer_context())
            page_cache.cache_product_page(key, generation, body)
        return HttpResponse(body, content_type=renderer.media_type)

    def _page_response(self) -> Response:
        # A page of plain rows in the serializer's shape (tests hold the two equal): instantiating
        # models and running serializer fields for every row cost more than the rest of the request.
        page = self.paginate_queryset(selectors.product_rows(self.filter_queryset(self.get_queryset())))
        return self.get_paginated_response(selectors.shaped_product_rows(page or []))

    @extend_schema(
        responses=CSV_RESPONSE, filters=True, description="The catalog as CSV (streamed), filtered like the list."
    )
    @action(detail=False, methods=["get"], url_path="export", pagination_class=None)
    def export(self, request: Request) -> StreamingHttpResponse:
        return export_response(self.filter_queryset(self.get_queryset()))


@extend_schema_view(destroy=extend_schema(description="Its products become uncategorised."))
class CategoryViewSet(WritesThroughServices):
    """`/api/v1/categories`: a store's categories, addressed by slug."""

    serializer_class = CategorySerializer
    permission_classes = [IsStoreMember]
    pagination_class = CatalogPagination
    lookup_field = "slug"
    lookup_value_regex = "[a-z0-9-]+"

    create_with = staticmethod(services.create_category)
    update_with = staticmethod(services.update_category)
    delete_with = staticmethod(services.delete_category)

    def get_queryset(self) -> QuerySet[Category]:
        return selectors.categories()


class SellerProfileView(APIView):
    """`/api/v1/seller-profile`: the story, photo and town of the people behind the store."""

    permission_classes = [IsStoreMember]
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]

    @extend_schema(responses=SellerProfileSerializer)
    def get(self, request: Request) -> Response:
        return Response(SellerProfileSerializer(selectors.seller_profile(), context={"request": request}).data)

    @extend_schema(request=SellerProfileSerializer, responses=SellerProfileSerializer)
    def put(self, request: Request) -> Response:
        serializer = SellerProfileSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        profile = _refusing(
            services.save_seller_profile,
            story=data["story"],
            town=data["town"],
            postcode=data["postcode"],
            photo=data.get("photo"),
            remove_photo="photo" in data and data["photo"] is None,
            brand_colour=data.get("brand_colour"),  # not named: kept
        )
        return Response(SellerProfileSerializer(profile, context={"request": request}).data)


class ImportJobListView(generics.ListCreateAPIView):
    """`/api/v1/products/import`: upload a CSV to import (202, then poll the job), or list past imports."""

    permission_classes = [IsStoreMember]
    pagination_class = CatalogPagination
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    serializer_class = ImportJobSerializer

    def get_queryset(self) -> QuerySet[ImportJob]:
        return selectors.import_jobs()

    @extend_schema(request=ImportUploadSerializer, responses={202: ImportJobSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        try:
            job = imports.start_import(upload.validated_data["file"], user=request.user)
        except imports.ImportRefused as error:
            raise ValidationError({"file": [str(error)]}) from error
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportJobView(generics.RetrieveAPIView):
    """`/api/v1/products/import/<id>`: an import's progress and outcome."""

    permission_classes = [IsStoreMember]
    serializer_class = ImportJobSerializer

    def get_queryset(self) -> QuerySet[ImportJob]:
        return selectors.import_jobs()


class ImportErrorReportView(APIView):
    """`/api/v1/products/import/<id>/errors.csv`: the rows an import refused, and why."""

    permission_classes = [IsStoreMember]

    @extend_schema(
        responses={
            **CSV_RESPONSE,
            404: OpenApiResponse(description="No such import, or it refused no rows."),
            409: OpenApiResponse(description="The import is still running."),
        }
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        job = get_object_or_404(selectors.import_jobs(), pk=pk)
        if not job.is_finished:
            return Response({"detail": "The import is still running."}, status=status.HTTP_409_CONFLICT)
        if not job.error_report:
            return Response({"detail": "This import refused no rows."}, status=status.HTTP_404_NOT_FOUND)
        return error_report_response(job)
