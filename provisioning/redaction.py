"""Secrets are cut out of step logs and errors before they are stored or shown: password hashes,
passwords in connection URLs and key=value pairs, bearer tokens and cloud keys. Pure functions."""

from __future__ import annotations

import re

REDACTED = "[redacted]"
# Longest log kept per step: the tail, where a failure explains itself.
MAX_LOG_CHARS = 20_000

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Django password hashes (argon2, pbkdf2, bcrypt, scrypt): algorithm$...$...
    (re.compile(r"\b(?:argon2|pbkdf2_sha256|pbkdf2_sha1|bcrypt_sha256|bcrypt|scrypt)\$\S+"), REDACTED),
    (re.compile(r"\$argon2(?:id|i|d)\$\S+"), REDACTED),
    # scheme://user:password@host
    (re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(?=@)", re.IGNORECASE), rf"\g<head>{REDACTED}"),
    # password=..., "secret": "...", PGPASSWORD=..., token: ...
    (
        re.compile(
            r"(?P<head>[\"']?\b[\w.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)[\w.-]*[\"']?"
            r"\s*[:=]\s*[\"']?)[^\s\"',;]+",
            re.IGNORECASE,
        ),
        rf"\g<head>{REDACTED}",
    ),
    (re.compile(r"(?P<head>\bBearer\s+)\S+", re.IGNORECASE), rf"\g<head>{REDACTED}"),
    # AWS access key ids
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),
)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with known secret shapes and the given literal secrets replaced by [redacted]."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def log_tail(text: str, limit: int = MAX_LOG_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"[... {len(text) - limit} earlier characters cut ...]\n" + text[-limit:]
