"""Make an account of the platform (the `public` schema) platform staff: `support` (console and staff API) or
`operator` (also suspend, deprovision, confirm upgrades, the platform admin). `--revoke` takes the role away."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.accounts.models import User
from tenants.models import PlatformRole
from tenants.permissions import grant_platform_role


class Command(BaseCommand):
    help = "Give a platform account a platform staff role (support or operator), or --revoke it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("role", nargs="?", choices=PlatformRole.Role.values)
        parser.add_argument("--revoke", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.TENANCY_MODE != "shared":
            raise CommandError("Platform roles exist on the shared platform only, not on a dedicated stack.")
        user = User.objects.filter(email__iexact=options["email"]).first()
        if user is None:
            raise CommandError(f"No platform account {options['email']}; create it with createsuperuser first.")
        if options["revoke"]:
            PlatformRole.objects.filter(user=user).delete()
            self.stdout.write(f"{user.email} is no longer platform staff.")
            return
        if not options["role"]:
            raise CommandError("Name the role: support or operator.")
        grant_platform_role(user, options["role"])
        self.stdout.write(f"{user.email} is platform {options['role']}.")
