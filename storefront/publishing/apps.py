from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "storefront.publishing"
    label = "publishing"
    verbose_name = "Marketplace publishing outbox"
