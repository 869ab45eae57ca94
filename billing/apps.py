from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing.catalog_defaults import restore_empty_catalog

        # A flushed database (a test's teardown, `manage.py flush`) loses the catalog that migration
        # 0002 seeded; signup needs the default plan, so an empty catalog gets the defaults back.
        post_migrate.connect(restore_empty_catalog, sender=self, dispatch_uid="billing.restore_empty_catalog")

        from billing import limits
        from tenants.accounts.services import guard_staff_seats

        # Store accounts sit below billing: they count the seats, billing holds them to the plan.
        guard_staff_seats(lambda seats: limits.check_store_limit("staff_seats", current=seats))

        from billing import console

        # The staff console lives in tenants: billing adds its filters, row values and tenant-page panel.
        console.register()
