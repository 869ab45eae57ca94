"""`/api/v1/products` on a store host, for that store's members."""

from typing import Any

from rest_framework import permissions, viewsets

from storefront.catalog.models import Product
from storefront.catalog.serializers import ProductSerializer
from tenants.accounts.services import is_member_here


class IsStoreMember(permissions.BasePermission):
    message = "Only this store's staff may do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and is_member_here(request.user))


class ProductViewSet(viewsets.ModelViewSet):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    permission_classes = [IsStoreMember]
