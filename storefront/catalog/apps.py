from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def catalog_changed(**kwargs: Any) -> None:
    """A product or category of this schema was saved or deleted: cached product pages are stale."""
    from storefront.catalog.page_cache import catalog_changed

    catalog_changed()


class CatalogConfig(AppConfig):
    name = "storefront.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        for model_name in ("Product", "Category"):
            model = self.get_model(model_name)
            post_save.connect(catalog_changed, sender=model, dispatch_uid=f"catalog-changed-{model_name}-save")
            post_delete.connect(catalog_changed, sender=model, dispatch_uid=f"catalog-changed-{model_name}-delete")
