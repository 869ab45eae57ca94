from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "provisioning"
    verbose_name = "Provisioning"

    def ready(self) -> None:
        from provisioning import console

        # The staff console (tenants, billing's overview) sits below provisioning: it shows runs through hooks.
        console.register()
