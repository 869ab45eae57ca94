"""Rules for a store's subdomain (pure: no database), shared by the signup form and API."""

import re

# Hostnames the platform keeps for itself or that would mislead buyers.
RESERVED_SUBDOMAINS = frozenset(
    """
    admin administrator api app apps assets auth billing blog cdn console dashboard dev docs ftp help
    imap localbazaar mail marketplace media metrics mx ns ns1 ns2 platform pop pop3 portal public root
    security signup smtp staff static status stripe support system template test webhooks www
    """.split()
)
SUBDOMAIN_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")
MIN_LENGTH = 3
MAX_LENGTH = 40


def normalise_subdomain(value: str) -> str:
    return value.strip().lower()


def subdomain_problem(subdomain: str) -> str | None:
    """Why `subdomain` can't be a store's subdomain, or None when it can (uniqueness aside)."""
    if not subdomain:
        return "Choose a subdomain for your store."
    if len(subdomain) < MIN_LENGTH or len(subdomain) > MAX_LENGTH:
        return f"A subdomain has {MIN_LENGTH} to {MAX_LENGTH} characters."
    if not SUBDOMAIN_PATTERN.match(subdomain):
        return "Use lower-case letters, digits and hyphens only, starting and ending with a letter or digit."
    if "--" in subdomain:
        return "A subdomain can't contain two hyphens in a row."
    if subdomain in RESERVED_SUBDOMAINS or subdomain.startswith(("pool-", "pool_", "tenant-")):
        return f"'{subdomain}' is reserved by the platform; choose another."
    return None


def schema_name_for(subdomain: str) -> str:
    """The PostgreSQL schema of a store: a prefix keeps tenant schemas apart from system ones."""
    return "t_" + subdomain.replace("-", "_")
