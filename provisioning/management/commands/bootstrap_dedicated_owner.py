"""Create the store owner's account in a dedicated database (single-tenant mode only). Run by the
`local` provisioning backend; the owner's password hash, kept since signup, is read from stdin."""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from config.db_backend import connection
from tenants.accounts.models import Membership, User
from tenants.accounts.services import add_staff_member

OWNER_CREATED = "owner: created"
OWNER_ALREADY_PRESENT = "owner: already present"


class Command(BaseCommand):
    help = "Create the owner account and membership in this dedicated database (password hash on stdin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        # In shared mode `public` holds the platform's staff: an owner made there could run the platform.
        if settings.TENANCY_MODE != "dedicated":
            raise CommandError("Refusing to run outside TENANCY_MODE=dedicated (this is the shared database).")
        email: str = options["email"]
        password_hash = sys.stdin.read().strip()
        connection.set_schema_to_public()
        with transaction.atomic():
            owner = User.objects.filter(email__iexact=email).first()
            if owner is not None:
                # A replayed step: the account is there; make sure its membership is too.
                Membership.objects.get_or_create(user=owner, defaults={"role": Membership.Role.OWNER})
                self.stdout.write(OWNER_ALREADY_PRESENT)
                return
            if not password_hash:
                raise CommandError("No owner account here and no password hash on stdin to make one with.")
            try:
                identify_hasher(password_hash)
            except ValueError as error:
                raise CommandError("stdin does not hold a password hash this platform can verify.") from error
            add_staff_member(email, role=Membership.Role.OWNER, password_hash=password_hash)
        self.stdout.write(OWNER_CREATED)
