"""Secrets handed to callers (API keys, tokens): made random, stored only as a hash, and the
rule for when their recorded use is refreshed. Kernel: every app may use it; it imports none."""

import hashlib
import secrets
from datetime import datetime, timedelta

# A credential's last use is written at most this often, so reads do not write every time.
USE_RECORDED_EVERY = timedelta(minutes=5)


def new_secret(prefix: str) -> str:
    """A random secret with a readable prefix (``ct_``, ``it_``...), 43 url-safe characters."""
    return prefix + secrets.token_urlsafe(32)


def hash_secret(raw: str) -> str:
    """Keys and tokens are random and long, so one unsalted SHA-256 is enough to store them."""
    return hashlib.sha256(raw.encode()).hexdigest()


def use_is_due(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a use at ``now`` should be written, given the last one written."""
    return last_used_at is None or last_used_at <= now - USE_RECORDED_EVERY
