from django.apps import AppConfig


class ImagesConfig(AppConfig):
    name = "storefront.images"
    label = "images"
    verbose_name = "Product images"
