"""Integration tokens: issuing one (shown once, stored as a hash), revoking it, and recording
its use. Checking a call's token is ``inventory.access``'s job."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from inventory.models import IntegrationToken, Location
from omni.core.credentials import USE_RECORDED_EVERY, hash_secret, new_secret, use_is_due
from omni.core.errors import InvalidInput

TOKEN_PREFIX = "it_"
MAX_DAYS = 365  # a token is rotated at least once a year


@transaction.atomic
def issue_integration_token(
    *,
    user: User,
    name: str,
    days: int | None = None,
    locations: Iterable[Location] = (),
) -> tuple[IntegrationToken, str]:
    """A new token acting as ``user`` for ``days`` (``INTEGRATION_TOKEN_DAYS`` by default),
    at ``locations`` only if any are given. Returns the token and its value, which is not
    stored (only its hash): show it now."""
    days = settings.INTEGRATION_TOKEN_DAYS if days is None else days
    errors = {}
    if not 1 <= days <= MAX_DAYS:
        errors["days"] = [f"From 1 to {MAX_DAYS} days."]
    if not name.strip():
        errors["name"] = ["Name the system the token is for."]
    if errors:
        raise InvalidInput("The token cannot be issued.", details=errors)
    raw = new_secret(TOKEN_PREFIX)
    token = IntegrationToken.objects.create(
        name=name.strip()[:100],
        user=user,
        prefix=raw[:11],
        key_hash=hash_secret(raw),
        expires_at=timezone.now() + timedelta(days=days),
    )
    token.locations.set(locations)
    return token, raw


@transaction.atomic
def revoke_integration_token(*, token: IntegrationToken) -> IntegrationToken:
    """The token stops working at once; the row stays as the record."""
    IntegrationToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def record_integration_token_use(*, token: IntegrationToken, now: datetime) -> None:
    """Note when the token was last used, at most every few minutes (a conditional UPDATE),
    so that a busy integration does not write the row on every call."""
    if not use_is_due(token.last_used_at, now):
        return
    IntegrationToken.objects.filter(pk=token.pk).exclude(
        last_used_at__gt=now - USE_RECORDED_EVERY
    ).update(last_used_at=now)
    token.last_used_at = now
