"""Secrets never reach a step's stored log or error."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from provisioning.redaction import REDACTED, log_tail, redact


def test_password_hashes_urls_and_tokens_are_cut_out():
    log = "\n".join(
        [
            "owner hash argon2$argon2id$v=19$m=19456,t=2,p=2$c2FsdA$aGFzaA",
            "DATABASE_URL=postgres://lb:S3cret-pass@db.internal:5432/lb_dedicated_x",
            'PGPASSWORD=hunter2hunter2 pg_dump "secret_access_key": "abc/def+ghi"',
            "Authorization: Bearer lb_abcdefghijklmnop",
            "aws key AKIAABCDEFGHIJKLMNOP",
        ]
    )

    cleaned = redact(log)

    for secret in ["c2FsdA$aGFzaA", "S3cret-pass", "hunter2hunter2", "abc/def+ghi", "lb_abcdefghij", "AKIAABCDEFGH"]:
        assert secret not in cleaned
    assert "postgres://lb:[redacted]@db.internal:5432/lb_dedicated_x" in cleaned
    assert "Applying catalog.0001_initial... OK" == redact("Applying catalog.0001_initial... OK")


@given(secret=st.text(min_size=len(REDACTED) + 1, max_size=64).filter(lambda s: s.strip() == s and s))
def test_a_registered_secret_never_survives(secret):
    assert secret not in redact(f"before {secret} after\n{secret}", (secret,))


def test_long_logs_keep_their_tail():
    log = "x" * 30_000 + "the error at the end"

    kept = log_tail(log, limit=1_000)

    assert kept.endswith("the error at the end") and len(kept) < 1_100
