from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self) -> None:
        from tenants.accounts.apps import accounts_changed

        # A platform role granted or revoked: no cached token check of the root host stands.
        role = self.get_model("PlatformRole")
        post_save.connect(accounts_changed, sender=role, dispatch_uid="accounts-changed-PlatformRole-save")
        post_delete.connect(accounts_changed, sender=role, dispatch_uid="accounts-changed-PlatformRole-delete")
