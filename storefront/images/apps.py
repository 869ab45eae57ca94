from django.apps import AppConfig


class ImagesConfig(AppConfig):
    name = "storefront.images"
    label = "images"
    verbose_name = "Product images"

    def ready(self) -> None:
        from storefront.catalog.services import on_product_deletion
        from storefront.images.services import forget_product_images

        # A deleted product's image files go once its deletion commits.
        on_product_deletion(forget_product_images)
