"""Merchant signup: the tenant, its subscription, its owner and its first token in one transaction. Shared
stores are live at once; dedicated ones are queued for staff."""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from billing.models import Plan
from billing.selectors import public_plan, public_plan_codes
from billing.services import start_subscription
from tenants import cache_generations, lifecycle, schema_pool
from tenants.accounts.email_verification import send_verification_link
from tenants.accounts.models import Membership, User
from tenants.accounts.services import add_staff_member, issue_api_token
from tenants.db_backend import connection
from tenants.models import Tenant
from tenants.routing import store_hostname, store_url
from tenants.subdomains import normalise_subdomain, schema_name_for, subdomain_problem
from tenants.task_queue import enqueue

logger = logging.getLogger(__name__)
_password_hashing = ThreadPoolExecutor(max_workers=2, thread_name_prefix="signup-hash")

# The plan a signup gets when it names none, by hosting choice (codes in the billing catalog).
DEFAULT_PLAN_CODES: dict[str, str] = {Tenant.Tenancy.SHARED: "starter", Tenant.Tenancy.DEDICATED: "dedicated"}


@dataclass(frozen=True)
class SignupRequest:
    email: str
    password: str
    store_name: str
    subdomain: str
    town: str
    postcode: str
    tenancy: str = Tenant.Tenancy.SHARED
    plan: str = ""


@dataclass
class SignupResult:
    tenant: Tenant
    owner: User | None
    token: str | None
    schema_source: str  # "pool", "migrate" or "none" (dedicated: no schema here)


@dataclass
class SignupError(Exception):
    """Field-keyed messages, e.g. {"subdomain": ["'www' is reserved ..."]}."""

    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _signup_plan(request: SignupRequest) -> Plan | None:
    """The public catalog plan the signup asks for, or its hosting's default (one indexed query)."""
    code = request.plan or DEFAULT_PLAN_CODES.get(request.tenancy, "")
    return public_plan(code) if code else None


def _check_signup(request: SignupRequest, plan: Plan | None) -> SignupError:
    problems = SignupError()
    subdomain = request.subdomain
    if problem := subdomain_problem(subdomain):
        problems.add("subdomain", problem)
    elif Tenant.objects.filter(slug=subdomain).exists():
        problems.add("subdomain", f"'{subdomain}' is already taken; choose another.")
    try:
        validate_email(request.email)
    except ValidationError:
        problems.add("email", "Enter a valid email address.")
    else:
        if Tenant.objects.annotate(e=Lower("owner_email")).filter(e=request.email.lower()).exists():
            problems.add("email", "A store is already registered with this email address; log in instead.")
    if not request.store_name.strip():
        problems.add("store_name", "Give your store a name.")
    elif len(request.store_name) > 120:
        problems.add("store_name", "A store name has at most 120 characters.")
    if not request.town.strip():
        problems.add("town", "Tell buyers which town you are in.")
    if not request.postcode.strip():
        problems.add("postcode", "Enter your postcode; buyers nearby find you by it.")
    elif len(request.postcode) > 16:
        problems.add("postcode", "A postcode has at most 16 characters.")
    if request.tenancy not in Tenant.Tenancy.values:
        problems.add("tenancy", "Choose 'shared' or 'dedicated'.")
    elif plan is None or plan.tenancy != request.tenancy:
        # Only on this error path: the codes to choose from cost a second query.
        choices = ", ".join(public_plan_codes(request.tenancy))
        if plan is None:
            code = request.plan or DEFAULT_PLAN_CODES[request.tenancy]
            problems.add("plan", f"Unknown plan '{code}'; choose one of {choices}.")
        else:
            problems.add("plan", f"The {plan.name} plan is for {plan.tenancy} hosting; choose one of {choices}.")
    # An unsaved user carrying the signup's words, so the similarity check compares against them.
    similarity_subject = User(email=request.email)
    similarity_subject.store_name = request.store_name  # type: ignore[attr-defined]
    similarity_subject.subdomain = request.subdomain  # type: ignore[attr-defined]
    try:
        validate_password(request.password, user=similarity_subject)
    except ValidationError as error:
        for message in error.messages:
            problems.add("password", message)
    return problems


def normalised(request: SignupRequest) -> SignupRequest:
    return SignupRequest(
        email=request.email.strip(),
        password=request.password,
        store_name=request.store_name.strip(),
        subdomain=normalise_subdomain(request.subdomain),
        town=request.town.strip(),
        postcode=request.postcode.strip().upper(),
        tenancy=request.tenancy.strip().lower(),
        plan=request.plan.strip().lower(),
    )


def sign_up_merchant(request: SignupRequest) -> SignupResult:
    """Register a merchant's store. Shared stores are live on return; dedicated ones await staff.

    Raises SignupError with field-level messages, having created nothing.
    """
    started = time.perf_counter()
    request = normalised(request)
    # Hashing (Argon2id, ~20 ms) is most of a signup's time; argon2 releases the GIL, so the hash is
    # made in a thread while the checks and the inserts wait on the database.
    password_hash = _password_hashing.submit(make_password, request.password)
    plan = _signup_plan(request)
    problems = _check_signup(request, plan)
    if problems.errors or plan is None:  # no plan is always one of the problems
        password_hash.cancel()
        raise problems
    try:
        with transaction.atomic():
            result = _register(request, password_hash, plan)
    except IntegrityError as error:
        # A concurrent signup took the subdomain or email between the checks and the insert; the
        # rollback returned any claimed pool schema untouched.
        raise _conflict_error(error, request) from error
    finally:
        connection.set_schema_to_public()
    if result.schema_source != "pool" and result.tenant.tenancy == Tenant.Tenancy.SHARED:
        logger.warning(
            "schema pool empty: store schema made by %s; refill the pool (TENANT_POOL_SIZE=%s)",
            result.schema_source,
            settings.TENANT_POOL_SIZE,
        )
    if result.tenant.tenancy == Tenant.Tenancy.SHARED:
        # The schema's name may have been a deleted store's: its cached reads are not this store's.
        cache_generations.start_schema(result.tenant.schema_name)
        transaction.on_commit(_request_pool_refill)
    logger.info(
        "merchant signed up",
        extra={
            "tenant": result.tenant.slug,
            "tenancy": result.tenant.tenancy,
            "schema_source": result.schema_source,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return result


def _register(request: SignupRequest, password_hash: Future[str], plan: Plan) -> SignupResult:
    dedicated = request.tenancy == Tenant.Tenancy.DEDICATED
    tenant = Tenant.objects.create(
        schema_name=schema_name_for(request.subdomain),
        slug=request.subdomain,
        name=request.store_name,
        status=Tenant.Status.PENDING_PROVISIONING if dedicated else Tenant.Status.ACTIVE,
        tenancy=request.tenancy,
        owner_email=request.email,
        pending_owner_password=password_hash.result() if dedicated else "",
        town=request.town,
        postcode=request.postcode,
        plan_code=plan.code,
    )
    lifecycle.add_domain(tenant, store_hostname(tenant.slug), by=lifecycle.Actor.system("signup"), is_primary=True)
    if dedicated:
        # The store's own stack and owner account are made when staff approve provisioning.
        return SignupResult(tenant=tenant, owner=None, token=None, schema_source="none")

    # In the signup's transaction: a store is never live without a subscription, nor billed without a store.
    start_subscription(tenant, plan)
    source = _make_store_schema(tenant.schema_name)
    connection.set_tenant(tenant)
    # The owner is superuser of this schema only: every right in their own store's admin.
    owner = add_staff_member(request.email, role=Membership.Role.OWNER, password_hash=password_hash.result())
    token = issue_api_token(owner)
    # Mailed once the signup commits: a link on the store's own host that verifies the owner's address.
    send_verification_link(owner, store_url(tenant.slug))
    connection.set_schema_to_public()
    return SignupResult(tenant=tenant, owner=owner, token=token, schema_source=source)


def _make_store_schema(schema_name: str) -> str:
    if schema_pool.claim_pooled_schema(schema_name):
        return "pool"
    schema_pool.create_schema_by_migrating(schema_name)
    return "migrate"


def _conflict_error(error: IntegrityError, request: SignupRequest) -> SignupError:
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") or ""
    problems = SignupError()
    if "email" in constraint:
        problems.add("email", "A store is already registered with this email address; log in instead.")
    else:
        problems.add("subdomain", f"'{request.subdomain}' was just taken by another signup; choose another.")
    return problems


def _request_pool_refill() -> None:
    try:
        enqueue("tenants.refill_schema_pool")
    except Exception:  # noqa: BLE001 - the broker being down must not fail a signup that committed
        logger.exception("could not queue the schema pool refill")
