"""Product images on a store host, for its members: upload, list, read, delete, and direct uploads to S3
(presign, then complete). Views parse and shape; `services` does the work."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, parsers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from storefront.catalog import selectors as catalog_selectors
from storefront.catalog.models import Product
from storefront.images import selectors, services
from storefront.images.models import ProductImage
from storefront.images.serializers import (
    CompleteUploadSerializer,
    ImageUploadSerializer,
    PresignedPostSerializer,
    PresignRequestSerializer,
    ProductImageSerializer,
)
from tenants.permissions import IsStoreMember

REFUSED = OpenApiResponse(description='Refused, with the reason keyed by field: `{"file": ["..."]}`.')


def _product(product_id: int) -> Product:
    return get_object_or_404(catalog_selectors.products(), pk=product_id)


def _refused(error: services.ImageError) -> ValidationError:
    return ValidationError({error.field: [str(error)]})


class ProductImageListView(generics.ListAPIView):
    """`/api/v1/products/<id>/images`: the product's images in order, or upload one (202: processing)."""

    permission_classes = [IsStoreMember]
    serializer_class = ProductImageSerializer
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    pagination_class = None

    def get_queryset(self) -> QuerySet[ProductImage]:
        return selectors.product_images(_product(self.kwargs["product_id"]))

    @extend_schema(request=ImageUploadSerializer, responses={202: ProductImageSerializer, 400: REFUSED})
    def post(self, request: Request, product_id: int) -> Response:
        product = _product(product_id)
        upload = ImageUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        try:
            image = services.add_image(
                product, upload.validated_data["file"], alt_text=upload.validated_data["alt_text"]
            )
        except services.ImageError as error:
            raise _refused(error) from error
        return Response(ProductImageSerializer(image).data, status=status.HTTP_202_ACCEPTED)


class ProductImageView(generics.RetrieveDestroyAPIView):
    """`/api/v1/products/<id>/images/<image_id>`: one image (poll it until `ready`), or delete it."""

    permission_classes = [IsStoreMember]
    serializer_class = ProductImageSerializer
    lookup_url_kwarg = "image_id"

    def get_queryset(self) -> QuerySet[ProductImage]:
        return selectors.product_images(self.kwargs["product_id"])

    def perform_destroy(self, instance: ProductImage) -> None:
        services.delete_image(instance)


class PresignImageUploadView(APIView):
    """`/api/v1/products/<id>/images/presign`: a presigned POST to upload one image straight to S3."""

    permission_classes = [IsStoreMember]

    @extend_schema(
        request=PresignRequestSerializer,
        responses={
            200: PresignedPostSerializer,
            400: REFUSED,
            409: OpenApiResponse(description="Media storage is not S3: upload through .../images instead."),
        },
    )
    def post(self, request: Request, product_id: int) -> Response:
        product = _product(product_id)
        body = PresignRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            post = services.presign_upload(product, content_type=body.validated_data["content_type"])
        except services.ImageError as error:
            if error.field == "detail":
                return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
            raise _refused(error) from error
        return Response(PresignedPostSerializer(post).data)


class CompleteImageUploadView(APIView):
    """`/api/v1/products/<id>/images/complete`: register a directly uploaded file (checked, then processed)."""

    permission_classes = [IsStoreMember]

    @extend_schema(
        request=CompleteUploadSerializer,
        responses={
            202: ProductImageSerializer,
            400: REFUSED,
            409: OpenApiResponse(description="Media storage is not S3."),
        },
    )
    def post(self, request: Request, product_id: int) -> Response:
        product = _product(product_id)
        body = CompleteUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            image = services.complete_direct_upload(product, **body.validated_data)
        except services.ImageError as error:
            if error.field == "detail":
                return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
            raise _refused(error) from error
        return Response(ProductImageSerializer(image).data, status=status.HTTP_202_ACCEPTED)
