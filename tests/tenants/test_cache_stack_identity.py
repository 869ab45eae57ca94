"""Every cache key and cached read names the stack that wrote it: the platform and a dedicated stack (whose
store lives in `public` too) never read each other's cache on one Redis, whatever CACHE_KEY_PREFIX says."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings

from tenants import cache_generations
from tenants.accounts.services import ACCOUNTS

PRINT_CACHES = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps({alias: c.get('KEY_PREFIX', '') for alias, c in settings.CACHES.items()}))"
)


def cache_prefixes(tenancy_mode: str, database: str) -> dict[str, str]:
    """The cache key prefixes of a process started with this configuration and CACHE_KEY_PREFIX empty."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "TENANCY_MODE": tenancy_mode,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CACHE_KEY_PREFIX": "",
    }
    output = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PRINT_CACHES],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_an_empty_cache_key_prefix_never_makes_a_stack_share_the_platforms_keys():
    # Given the platform and a dedicated stack on one Redis, both with CACHE_KEY_PREFIX= (as .env.example has it)
    platform = cache_prefixes("shared", "localbazaar")
    stack = cache_prefixes("dedicated", "lb_dedicated_pottery")
    other_stack = cache_prefixes("dedicated", "lb_dedicated_weaving")

    # Then every cache of each names its own stack, so no key of one is a key of another
    assert platform["default"].startswith("platform") and platform["routing"].startswith("platform")
    assert stack["default"].startswith("dedicated:lb_dedicated_pottery")
    assert stack["routing"].startswith("dedicated:lb_dedicated_pottery")
    for alias in ("default", "routing"):
        assert len({platform[alias], stack[alias], other_stack[alias]}) == 3


@pytest.mark.django_db
def test_a_cached_read_written_by_another_stack_under_the_same_key_is_a_miss():
    # Given a token check cached by a dedicated stack under the very key the platform reads (prefixes that
    # were configured to collide), in `public` like the platform's root host
    assert cache_generations.enabled()
    with override_settings(STACK_ID="dedicated:lb_dedicated_pottery"):
        _, generation = cache_generations.read(ACCOUNTS, "digest-of-the-owners-token")
        cache_generations.store(ACCOUNTS, "digest-of-the-owners-token", generation, ("platform", "owner"), 60)
        assert cache_generations.read(ACCOUNTS, "digest-of-the-owners-token")[0] == ("platform", "owner")

    # When the platform reads it
    found, _ = cache_generations.read(ACCOUNTS, "digest-of-the-owners-token")

    # Then it is not the platform's: a miss
    assert found is None
