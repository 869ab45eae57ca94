from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def accounts_changed(**kwargs: Any) -> None:
    """A user, membership or token of this schema changed: no cached token check stands."""
    from tenants import cache_generations
    from tenants.accounts.services import ACCOUNTS

    cache_generations.bump(ACCOUNTS)


class AccountsConfig(AppConfig):
    name = "tenants.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        for model_name in ("User", "Membership", "ApiToken"):
            model = self.get_model(model_name)
            post_save.connect(accounts_changed, sender=model, dispatch_uid=f"accounts-changed-{model_name}-save")
            post_delete.connect(accounts_changed, sender=model, dispatch_uid=f"accounts-changed-{model_name}-delete")
