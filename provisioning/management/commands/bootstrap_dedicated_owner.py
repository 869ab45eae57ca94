"""Create the store owner's account in a dedicated database (single-tenant mode only). Run by the
provisioning backends with `{"email": ..., "password_hash": ...}` as JSON on stdin: the hash kept since
signup, and the email with it, so nothing the merchant typed is ever on a command line (visible in `ps`,
and read by a shell wherever the command runs through one, as `ssh` does)."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tenants.accounts.models import Membership, User
from tenants.accounts.services import add_staff_member
from tenants.db_backend import connection

OWNER_CREATED = "owner: created"
OWNER_ALREADY_PRESENT = "owner: already present"


class Command(BaseCommand):
    help = 'Create the owner account and membership in this dedicated database ({"email", "password_hash"} on stdin).'

    def handle(self, *args: Any, **options: Any) -> None:
        # In shared mode `public` holds the platform's staff: an owner made there could run the platform.
        if settings.TENANCY_MODE != "dedicated":
            raise CommandError("Refusing to run outside TENANCY_MODE=dedicated (this is the shared database).")
        try:
            owner_record = json.loads(sys.stdin.read())
            email = str(owner_record["email"])
            password_hash = str(owner_record.get("password_hash") or "").strip()
        except (ValueError, KeyError, TypeError) as error:
            raise CommandError(f'stdin must hold {{"email": ..., "password_hash": ...}} as JSON: {error}') from error
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
