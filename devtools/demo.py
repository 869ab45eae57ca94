"""Demo data for a development database: the platform admin, two shared stores with products and one
dedicated store (signed up and approved, so its provisioning run builds its own database on the worker and
`make dev`'s stack supervisor serves it once live).

Stores are made through the real signup service, so a demo store is exactly what a merchant gets.
Every step is idempotent: a re-run creates only what is missing and never changes what exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from devtools.demo_photos import demo_photo
from onboarding.services import SignupRequest, sign_up_merchant
from provisioning import services as provisioning
from storefront.buyers.models import Buyer
from storefront.buyers.services import register_buyer
from storefront.catalog import services as catalog
from storefront.catalog.models import Product
from storefront.images import services as images
from storefront.images.models import ProductImage
from tenants.accounts.models import User
from tenants.models import PlatformRole, Tenant
from tenants.permissions import grant_platform_role
from tenants.routing import platform_url, store_url

PLATFORM_ADMIN_EMAIL = "admin@localbazaar.test"
DEMO_BUYER_EMAIL = "buyer@localbazaar.test"
# One well-known password for every demo login: this data exists only on development machines
# (seed_demo refuses to run without DEBUG), and a fixed password can be printed on every run.
DEMO_PASSWORD = "Market-day-lanterns-42"


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    title: str
    price: int  # minor units
    stock: int
    description: str = ""
    # The demo photo drawn for it (devtools.demo_photos): a shape and its colour.
    shape: str = "loaf"
    colour: tuple[int, int, int] = (181, 122, 60)


@dataclass(frozen=True)
class DemoStore:
    subdomain: str
    name: str
    owner_email: str
    town: str
    postcode: str
    products: tuple[DemoProduct, ...]


DEMO_STORES = (
    DemoStore(
        subdomain="bakery",
        name="Hebden Bakery",
        owner_email="baker@localbazaar.test",
        town="Hebden Bridge",
        postcode="HX7 8AD",
        products=(
            DemoProduct("BREAD-SOUR", "Sourdough loaf", 450, 12, "Long-fermented, baked each morning."),
            DemoProduct("BREAD-RYE", "Dark rye", 520, 6, "Seeded Yorkshire rye.", colour=(96, 62, 40)),
            DemoProduct("CAKE-PARKIN", "Parkin slab", 380, 20, "Oat and treacle ginger cake.", "cake", (140, 84, 30)),
        ),
    ),
    DemoStore(
        subdomain="pottery",
        name="Calder Pottery",
        owner_email="potter@localbazaar.test",
        town="Todmorden",
        postcode="OL14 5AA",
        products=(
            DemoProduct("MUG-CELADON", "Celadon mug", 2400, 8, "Thrown stoneware, 350 ml.", "mug", (120, 170, 150)),
            DemoProduct("BOWL-TENMOKU", "Tenmoku bowl", 3600, 4, "Iron glaze, oven safe.", "bowl", (70, 40, 30)),
            DemoProduct("VASE-BUD", "Bud vase", 1800, 10, "", "vase", (60, 90, 150)),
        ),
    ),
)


DEMO_DEDICATED_STORE = DemoStore(
    subdomain="weavers",
    name="Ryburn Weavers",
    owner_email="weaver@localbazaar.test",
    town="Ripponden",
    postcode="HX6 4DF",
    products=(),
)


@dataclass
class DemoSeedResult:
    admin_created: bool = False
    stores_created: list[str] = field(default_factory=list)
    products_created: int = 0


def ensure_platform_admin(email: str = PLATFORM_ADMIN_EMAIL, password: str = DEMO_PASSWORD) -> bool:
    """Create the platform superuser with the operator role (call in the public schema). Returns True when
    it was created."""
    if User.objects.filter(email__iexact=email).exists():
        return False
    grant_platform_role(User.objects.create_superuser(email, password), PlatformRole.Role.OPERATOR)
    return True


def ensure_demo_buyer(email: str = DEMO_BUYER_EMAIL, password: str = DEMO_PASSWORD) -> bool:
    """A buyer account (one for the whole marketplace), for the cart and checkout APIs. True when created."""
    if Buyer.objects.filter(email__iexact=email).exists():
        return False
    register_buyer(email, password, name="Demo Buyer")
    return True


def ensure_demo_store(store: DemoStore) -> tuple[Tenant, bool, int]:
    """Sign the store up if it does not exist, then add any missing demo products.

    Returns the tenant, whether it was created, and how many products were added.
    """
    tenant = Tenant.objects.filter(slug=store.subdomain).first()
    created = tenant is None
    if tenant is None:
        result = sign_up_merchant(
            SignupRequest(
                email=store.owner_email,
                password=DEMO_PASSWORD,
                store_name=store.name,
                subdomain=store.subdomain,
                town=store.town,
                postcode=store.postcode,
                tenancy=Tenant.Tenancy.SHARED,
            )
        )
        tenant = result.tenant
    added = 0
    with tenant_context(tenant):
        existing = {p.sku: p for p in Product.objects.all()}
        for product in store.products:
            made = existing.get(product.sku)
            if made is None:
                # Through the catalog's service, as a merchant would: the product is published to the
                # marketplace (the outbox) and counts against the plan like any other.
                made = catalog.create_product(
                    sku=product.sku,
                    title=product.title,
                    description=product.description,
                    price=product.price,
                    currency="GBP",
                    stock=product.stock,
                    status=Product.Status.ACTIVE,
                )
                added += 1
            if not ProductImage.objects.filter(product=made).exists():
                # Through the images service too: stored, then thumbnailed by the worker.
                photo = demo_photo(product.shape, product.colour, product.sku.lower())
                images.add_image(made, photo, alt_text=product.title)
    return tenant, created, added


def ensure_demo_dedicated_store(store: DemoStore = DEMO_DEDICATED_STORE) -> bool:
    """Sign the dedicated store up and approve it (its run is queued for the worker). True when created."""
    if Tenant.objects.filter(slug=store.subdomain).exists():
        return False
    result = sign_up_merchant(
        SignupRequest(
            email=store.owner_email,
            password=DEMO_PASSWORD,
            store_name=store.name,
            subdomain=store.subdomain,
            town=store.town,
            postcode=store.postcode,
            tenancy=Tenant.Tenancy.DEDICATED,
        )
    )
    admin = User.objects.filter(email__iexact=PLATFORM_ADMIN_EMAIL).first()
    provisioning.approve_dedicated_request(result.tenant, admin)
    return True


def seed_demo_marketplace(stores: tuple[DemoStore, ...] = DEMO_STORES, *, dedicated: bool = True) -> DemoSeedResult:
    """The platform admin and the demo stores, made if missing."""
    # The admin and the tenant registry live in public, whatever schema the caller was in.
    with schema_context(get_public_schema_name()):
        outcome = DemoSeedResult(admin_created=ensure_platform_admin())
        ensure_demo_buyer()
        for store in stores:
            tenant, created, added = ensure_demo_store(store)
            if created:
                outcome.stores_created.append(tenant.slug)
            outcome.products_created += added
        if dedicated and ensure_demo_dedicated_store():
            outcome.stores_created.append(DEMO_DEDICATED_STORE.subdomain)
    return outcome


def demo_logins(stores: tuple[DemoStore, ...] = DEMO_STORES) -> list[tuple[str, str, str]]:
    """(where, email, password) for every demo login, for printing."""
    logins = [(f"{platform_url()}admin/ and {platform_url()}console/", PLATFORM_ADMIN_EMAIL, DEMO_PASSWORD)]
    logins += [(f"{store_url(store.subdomain)}admin/", store.owner_email, DEMO_PASSWORD) for store in stores]
    dedicated = DEMO_DEDICATED_STORE
    logins.append((f"{store_url(dedicated.subdomain)}admin/ (dedicated)", dedicated.owner_email, DEMO_PASSWORD))
    logins.append((f"POST {platform_url()}api/v1/buyers/token (a buyer's token)", DEMO_BUYER_EMAIL, DEMO_PASSWORD))
    return logins
