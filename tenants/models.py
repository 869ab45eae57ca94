"""The tenant registry (public schema): tenants, their domains, the schema pool and migration status."""

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.functions import Lower
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        PENDING_PROVISIONING = "pending_provisioning", "Pending provisioning"
        # The dedicated-stack lifecycle (provisioning.services): approved and being built, refused by
        # staff, being taken down, taken down (its final export kept).
        PROVISIONING = "provisioning", "Provisioning"
        REJECTED = "rejected", "Rejected"
        DEPROVISIONING = "deprovisioning", "Deprovisioning"
        DEPROVISIONED = "deprovisioned", "Deprovisioned"
        # A shared store being moved to its own database: closed (no writes) while its data is copied.
        MIGRATING = "migrating", "Migrating to dedicated"

    class Tenancy(models.TextChoices):
        SHARED = "shared", "Shared"
        DEDICATED = "dedicated", "Dedicated"

    # Schemas are made by onboarding.services (pool, else migrations), never as a side effect of save().
    auto_create_schema = False
    auto_drop_schema = False

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.ACTIVE)
    tenancy = models.CharField(max_length=16, choices=Tenancy.choices, default=Tenancy.SHARED)
    owner_email = models.EmailField()
    # Held only until a dedicated stack is provisioned and its owner account bootstrapped.
    pending_owner_password = models.CharField(max_length=256, blank=True, default="")
    town = models.CharField(max_length=80)
    postcode = models.CharField(max_length=16)
    plan_code = models.CharField(max_length=40, blank=True, default="")
    suspension_reason = models.CharField(max_length=200, blank=True, default="")
    # Why staff refused a dedicated request; also sent to the merchant.
    rejection_reason = models.CharField(max_length=500, blank=True, default="")
    # A dedicated tenant's own database (local provisioning backend), once it has been created.
    database_name = models.CharField(max_length=63, blank=True, default="")
    # Where the front proxy sends a live dedicated store's requests: its own stack's web endpoint
    # (set when that stack's web process starts, `manage.py serve_dedicated`); empty: not served yet.
    upstream_url = models.URLField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Lower("owner_email"), name="tenant_owner_email_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=[
                        "active",
                        "suspended",
                        "pending_provisioning",
                        "provisioning",
                        "rejected",
                        "deprovisioning",
                        "deprovisioned",
                        "migrating",
                    ]
                ),
                name="tenant_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(tenancy__in=["shared", "dedicated"]), name="tenant_tenancy_valid"
            ),
        ]
        indexes = [
            # The staff console's sorts (tenants.console_list): each page is a keyset seek into one of these.
            models.Index(fields=["-created_at", "-id"], name="tenant_newest_idx"),
            models.Index(fields=["name", "id"], name="tenant_name_idx"),
            models.Index(fields=["-status", "-created_at", "-id"], name="tenant_status_idx"),
            # Its search for a part of a name, slug or owner's email in any case (column ILIKE '%part%':
            # pg_trgm's trigrams are case-folded, so these serve ILIKE as well as LIKE).
            GinIndex(fields=["name"], opclasses=["gin_trgm_ops"], name="tenant_name_trgm"),
            GinIndex(fields=["slug"], opclasses=["gin_trgm_ops"], name="tenant_slug_trgm"),
            GinIndex(fields=["owner_email"], opclasses=["gin_trgm_ops"], name="tenant_owner_email_trgm"),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_dedicated(self) -> bool:
        """Its data lives in its own database, never in a schema of the shared one."""
        return self.tenancy == self.Tenancy.DEDICATED


class Domain(DomainMixin):
    """A hostname that routes to a tenant: <slug>.<PLATFORM_DOMAIN> or a verified custom domain."""

    class Meta:
        # The staff console finds a store by a part of any of its hostnames (see Tenant's trigram indexes).
        indexes = [GinIndex(fields=["domain"], opclasses=["gin_trgm_ops"], name="domain_trgm")]


class PooledSchema(models.Model):
    """A migrated, empty tenant schema waiting to be claimed by a signup (renamed to the tenant's)."""

    schema_name = models.CharField(max_length=63, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.schema_name


class SchemaMigrationState(models.Model):
    """What the schema migration runner last did to one tenant, pool or template schema."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Up to date"
        FAILED = "failed", "Failed"
        DRIFT = "drift", "Drifted from the recorded state"

    schema_name = models.CharField(max_length=63, primary_key=True)
    # A digest of the set of migrations applied in the schema when this row was written.
    state_digest = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.APPLIED)
    error = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.schema_name}: {self.status}"


class TenantStateChange(models.Model):
    """One change of a tenant's status, tenancy, domains, upstream, database, plan or owner's email copy: who,
    why, what.

    Written only by `tenants.lifecycle`, in the changing transaction; never updated."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="state_changes")
    # "user:<email>" for a person, "system:<part>" (billing, provisioning...) for the platform itself.
    actor = models.CharField(max_length=200)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True, default="")
    # {"field": [before, after], ...}
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="tenant_state_change_recent")]

    def __str__(self) -> str:
        return f"{self.tenant_id} by {self.actor} at {self.created_at:%Y-%m-%d %H:%M}"


class PlatformRole(models.Model):
    """What a platform staff member may do on the control plane. The Django `is_staff` flag is not enough:
    every store owner carries it in their own store. Rows live in `public` of the shared database only."""

    class Role(models.TextChoices):
        # The console and the staff API: list, approve, reject, upgrade, reactivate, retry, cancel.
        SUPPORT = "support", "Support"
        # Also what cannot be undone or closes a store: suspend, deprovision, confirm an upgrade; the admin.
        OPERATOR = "operator", "Operator"

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="platform_role")
    role = models.CharField(max_length=16, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=["support", "operator"]), name="platform_role_valid")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.role}"
