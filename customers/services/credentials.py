"""Credentials: customers' sign-in tokens and storefronts' API keys, stored as hashes."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer, CustomerToken, StorefrontKey, hash_secret
from omni.core.channels import Channel
from omni.core.credentials import USE_RECORDED_EVERY, new_secret, use_is_due
from omni.core.errors import InvalidInput


def issue_customer_token(*, customer: Customer, channel: str) -> str:
    """A new bearer token for the customer; only its hash is stored, so show it now."""
    raw = new_secret("ct_")
    CustomerToken.objects.create(customer=customer, channel=channel, key_hash=hash_secret(raw))
    return raw


def record_customer_token_use(*, token: CustomerToken, now: datetime) -> None:
    """Move the token's idle limit to ``now``. Written at most every few minutes per token,
    and then by a conditional UPDATE (concurrent requests write once), so reads stay reads.
    The caller has checked that the token has not expired."""
    if not use_is_due(token.last_used_at, now):
        return
    CustomerToken.objects.filter(pk=token.pk, last_used_at__lte=now - USE_RECORDED_EVERY).update(
        last_used_at=now
    )
    token.last_used_at = now


@transaction.atomic
def revoke_customer_tokens(*, customer: Customer, keep: CustomerToken | None = None) -> int:
    """Sign the customer out everywhere, except with ``keep`` (the caller's own token) when
    given. Revoked tokens are deleted. Returns how many were revoked."""
    tokens = CustomerToken.objects.filter(customer=customer)
    if keep is not None:
        tokens = tokens.exclude(pk=keep.pk)
    return tokens.delete()[0]


def purge_expired_customer_tokens(*, now: datetime | None = None) -> int:
    """Delete the tokens that can no longer be used (idle too long, or past the cap)."""
    now = now or timezone.now()
    idle_since = now - timedelta(days=settings.CUSTOMER_TOKEN_IDLE_DAYS)
    issued_before = now - timedelta(days=settings.CUSTOMER_TOKEN_MAX_DAYS)
    expired = CustomerToken.objects.filter(
        Q(last_used_at__lte=idle_since) | Q(created_at__lte=issued_before)
    )
    return expired.delete()[0]


@transaction.atomic
def issue_storefront_key(*, name: str, channel: str) -> tuple[StorefrontKey, str]:
    """A new API key for a storefront app; the key is returned once and stored as a hash."""
    if channel not in Channel.values:
        raise InvalidInput(
            "Unknown channel.", details={"channel": [f"One of {', '.join(Channel.values)}."]}
        )
    raw = new_secret(f"sk_{channel}_")
    key = StorefrontKey.objects.create(
        name=name, channel=channel, prefix=raw[:12], key_hash=hash_secret(raw)
    )
    return key, raw


@transaction.atomic
def revoke_storefront_key(*, key: StorefrontKey) -> StorefrontKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key
