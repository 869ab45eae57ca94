"""The default plan catalog (GBP, pence), seeded by migration 0002 and restored into an empty catalog.

Staff edit plans in the control-plane admin afterwards; seeding never overwrites a plan that exists.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django_tenants.utils import get_public_schema_name

from tenants.db_backend import connection

# Tier rows are (up_to, unit_amount, flat_amount); up_to None is the unbounded last tier.
DEFAULT_PLANS: list[dict[str, Any]] = [
    {
        "code": "starter",
        "name": "Starter",
        "tenancy": "shared",
        "monthly_fee": 900,
        "yearly_fee": 9_000,
        "sort_order": 10,
        "limits": {"max_products": 100, "staff_seats": 1, "custom_domains": 0},
        "charges": [
            {"metric": "orders", "pricing": "per_unit", "included": 50, "unit_amount": Decimal(20)},
            {"metric": "gmv", "pricing": "percentage", "percentage_bps": 200},
            {
                "metric": "api_requests",
                "pricing": "package",
                "included": 10_000,
                "package_size": 10_000,
                "package_amount": 100,
            },
            {"metric": "storage_gb", "pricing": "per_unit", "included": 1, "unit_amount": Decimal(50)},
        ],
    },
    {
        "code": "growth",
        "name": "Growth",
        "tenancy": "shared",
        "monthly_fee": 2_900,
        "yearly_fee": 29_000,
        "sort_order": 20,
        "limits": {"max_products": 2_000, "staff_seats": 5, "custom_domains": 1},
        "charges": [
            {
                "metric": "orders",
                "pricing": "graduated",
                "included": 500,
                "tiers": [(5_000, Decimal(10), 0), (None, Decimal(5), 0)],
            },
            {"metric": "gmv", "pricing": "percentage", "percentage_bps": 150},
            {
                "metric": "api_requests",
                "pricing": "package",
                "included": 100_000,
                "package_size": 50_000,
                "package_amount": 100,
            },
            {"metric": "storage_gb", "pricing": "per_unit", "included": 10, "unit_amount": Decimal(40)},
        ],
    },
    {
        "code": "scale",
        "name": "Scale",
        "tenancy": "shared",
        "monthly_fee": 9_900,
        "yearly_fee": 99_000,
        "sort_order": 30,
        "limits": {"max_products": None, "staff_seats": 25, "custom_domains": 5},
        "charges": [
            {
                "metric": "orders",
                "pricing": "volume",
                "included": 5_000,
                # The £500 flat amount keeps 50,001 orders from costing less than 50,000.
                "tiers": [(50_000, Decimal(4), 0), (None, Decimal(3), 50_000)],
            },
            {"metric": "gmv", "pricing": "percentage", "percentage_bps": 100},
            {
                "metric": "api_requests",
                "pricing": "package",
                "included": 1_000_000,
                "package_size": 100_000,
                "package_amount": 50,
            },
            {"metric": "storage_gb", "pricing": "per_unit", "included": 100, "unit_amount": Decimal(25)},
        ],
    },
    {
        "code": "dedicated",
        "name": "Dedicated",
        "tenancy": "dedicated",
        "monthly_fee": 150_000,
        "yearly_fee": 1_500_000,
        "sort_order": 40,
        "limits": {"max_products": None, "staff_seats": None, "custom_domains": None},
        "charges": [
            {"metric": "gmv", "pricing": "percentage", "percentage_bps": 50},
            {"metric": "storage_gb", "pricing": "per_unit", "included": 1_000, "unit_amount": Decimal(10)},
        ],
    },
]

# The platform's application fee on buyers' card payments per plan, in basis points (migration 0005 on).
CARD_FEE_BPS = {"starter": 100, "growth": 50, "scale": 25, "dedicated": 0}


def set_card_fees(apps: Apps, codes: Any = None) -> None:
    plan_model = apps.get_model("billing", "Plan")
    for code, bps in CARD_FEE_BPS.items():
        if codes is None or code in codes:
            plan_model.objects.filter(code=code).update(card_fee_bps=bps)


def seed_default_catalog(apps: Apps) -> int:
    """Create the default plans that do not exist yet (by code); returns how many were created."""
    plan_model = apps.get_model("billing", "Plan")
    charge_model = apps.get_model("billing", "UsageCharge")
    tier_model = apps.get_model("billing", "UsageTier")
    existing = set(plan_model.objects.values_list("code", flat=True))
    created = 0
    for spec in DEFAULT_PLANS:
        if spec["code"] in existing:
            continue
        fields = {key: value for key, value in spec.items() if key not in ("limits", "charges")}
        plan = plan_model.objects.create(currency="GBP", is_public=True, **fields, **spec["limits"])
        for charge_spec in spec["charges"]:
            tiers = charge_spec.get("tiers", [])
            charge = charge_model.objects.create(
                plan=plan, **{key: value for key, value in charge_spec.items() if key != "tiers"}
            )
            tier_model.objects.bulk_create(
                tier_model(charge=charge, up_to=up_to, unit_amount=unit_amount, flat_amount=flat)
                for up_to, unit_amount, flat in tiers
            )
        created += 1
    if created and any(field.name == "card_fee_bps" for field in plan_model._meta.get_fields()):
        set_card_fees(apps, [spec["code"] for spec in DEFAULT_PLANS if spec["code"] not in existing])
    return created


def remove_default_catalog(apps: Apps) -> None:
    apps.get_model("billing", "Plan").objects.filter(code__in=[spec["code"] for spec in DEFAULT_PLANS]).delete()


def restore_empty_catalog(sender: Any, apps: Apps | None = None, **kwargs: Any) -> None:
    """post_migrate: an empty catalog (a flushed database) gets the defaults; a catalog with any plan
    is the staff's and is left alone. Only in `public`: tenant schemas have no billing tables.

    ``flush`` sends the signal without ``apps``: the installed models stand in for the migration state.
    """
    if connection.schema_name != get_public_schema_name():
        return
    apps = apps or global_apps
    try:
        plan_model = apps.get_model("billing", "Plan")
    except LookupError:  # billing migrated back to zero
        return
    if not plan_model.objects.exists():
        seed_default_catalog(apps)
