"""A dedicated stack's processes get an allow-list of the platform's environment and secrets of their own:
never the platform's SECRET_KEY, database superuser, Stripe or AWS keys, mail password or tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import connection

from provisioning.backends.local import dedicated_environment

PLATFORM_SECRETS = {
    "SECRET_KEY": "the-platforms-own-signing-key-0123456789-abcdefghijklmnop",
    "STRIPE_SECRET_KEY": "sk_live_platform",
    "STRIPE_WEBHOOK_SECRET": "whsec_platform",
    "AWS_ACCESS_KEY_ID": "AKIAPLATFORM",
    "AWS_SECRET_ACCESS_KEY": "platform-aws-secret",
    "AWS_SESSION_TOKEN": "platform-aws-session",
    "MARKETPLACE_PUBLISHING_TOKEN": "lbp_platform",
    "EMAIL_HOST_PASSWORD": "platform-smtp-password",
    "SENTRY_AUTH_TOKEN": "platform-sentry",
    "SOMETHING_NEW_AND_SECRET": "unknown names are not passed either",
}


def test_a_stack_gets_none_of_the_platforms_secrets_and_a_key_and_database_role_of_its_own(monkeypatch, settings):
    # Given a platform whose environment holds its secrets
    for name, value in PLATFORM_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    settings.SECRET_KEY = PLATFORM_SECRETS["SECRET_KEY"]

    # When it builds the environment of two stacks' processes
    pottery = dedicated_environment("pottery", "lb_dedicated_pottery")
    weaving = dedicated_environment("weaving", "lb_dedicated_weaving")

    # Then no secret of the platform is in it, whatever its name
    for name, value in PLATFORM_SECRETS.items():
        assert value not in pottery.values(), name
    assert not {name for name in pottery if name.startswith(("STRIPE_", "AWS_"))}
    # Its publishing token (the platform's API) is its own: not the platform's, not another stack's
    assert pottery["MARKETPLACE_PUBLISHING_TOKEN"].startswith("lbp_")
    assert pottery["MARKETPLACE_PUBLISHING_TOKEN"] != weaving["MARKETPLACE_PUBLISHING_TOKEN"]
    # The stack signs with a key of its own: the same on every start, another stack's is different
    assert len(pottery["SECRET_KEY"]) >= 50
    assert pottery["SECRET_KEY"] == dedicated_environment("pottery", "lb_dedicated_pottery")["SECRET_KEY"]
    assert pottery["SECRET_KEY"] != weaving["SECRET_KEY"]
    # It reaches its own database as its own role, not the platform's (superuser) role
    url = urlsplit(pottery["DATABASE_URL"])
    assert url.path == "/lb_dedicated_pottery" and url.username == "lb_dedicated_pottery"
    assert url.username != connection.settings_dict["USER"] and url.password
    # What it needs to run is passed on; and a .env file (the platform's) is not read
    assert pottery["REDIS_URL"] == "redis://127.0.0.1:6379/3" and "PATH" in pottery
    assert pottery["TENANCY_MODE"] == "dedicated" and pottery["READ_DOTENV"] == "0"
    # Behind the platform's front proxy: one hop more than the platform trusts, so throttles see the buyer.
    assert pottery["NUM_PROXIES"] == "1"


def test_a_stack_takes_cards_only_with_the_key_made_for_stacks_never_the_platforms(monkeypatch, settings):
    # Given a platform with its own Stripe key, and a key it makes for its stacks
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_live_platform")
    settings.STRIPE_SECRET_KEY = "sk_live_platform"
    settings.STRIPE_API_BASE = "https://stripe.example"
    settings.DEDICATED_STRIPE_SECRET_KEY = "rk_live_for_stacks"

    # When it builds a stack's environment
    pottery = dedicated_environment("pottery", "lb_dedicated_pottery")

    # Then the stack gets the stacks' key and Stripe's address, never the platform's own key
    assert pottery["STRIPE_SECRET_KEY"] == "rk_live_for_stacks"
    assert pottery["STRIPE_API_BASE"] == "https://stripe.example"
    assert "sk_live_platform" not in pottery.values()
