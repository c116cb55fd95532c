"""Reads of loyalty data shared by the API, the clerk dashboard and the admin."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import QuerySet, Sum
from django.utils import timezone

from customers.models import Customer
from loyalty.models import (
    Account,
    Card,
    PointsEntry,
    StoredValueCard,
    StoredValueEntry,
    Tier,
)
from loyalty.services import qualifying_totals
from omni.core.errors import NotFound


@dataclass(frozen=True)
class Summary:
    account: Account
    card: Card | None
    qualifying: Decimal
    next_tier: Tier | None
    to_next_tier: Decimal | None
    expiring_points: int
    expiring_by: datetime


def account_summary(account: Account, *, now: datetime | None = None) -> Summary:
    """Balance, tier and the progress to the next one, and points about to expire."""
    now = now or timezone.now()
    programme = account.programme
    qualifying = qualifying_totals([account.pk], now=now, basis=programme.tier_basis)[account.pk]
    next_tier = programme.tiers.filter(rank__gt=account.tier.rank).order_by("rank").first()
    expiring_by = now + timedelta(days=programme.expiry_notice_days)
    expiring = account.lots.filter(
        is_pending=False, remaining__gt=0, expires_at__lte=expiring_by
    ).aggregate(total=Sum("remaining"))["total"]
    return Summary(
        account=account,
        card=account.cards.filter(status=Card.Status.ACTIVE).first(),
        qualifying=qualifying,
        next_tier=next_tier,
        to_next_tier=max(next_tier.threshold - qualifying, Decimal(0)) if next_tier else None,
        expiring_points=expiring or 0,
        expiring_by=expiring_by,
    )


def account_of(customer: Customer) -> Account | None:
    return (
        Account.objects.select_related("programme", "tier", "customer")
        .filter(customer=customer)
        .first()
    )


def history(account: Account) -> QuerySet[PointsEntry]:
    return account.entries.order_by("-created_at", "-pk")


# --- Stored-value cards ---------------------------------------------------------------------


def stored_value_cards_of(customer: Customer) -> "QuerySet[StoredValueCard]":
    """A customer's gift and wallet cards, newest first (replaced ones too: their history)."""
    return StoredValueCard.objects.filter(customer=customer).order_by("-issued_at", "-pk")


def stored_value_card_of(customer: Customer, public_id: UUID | str) -> StoredValueCard:
    """One of this customer's cards; anyone else's (or none) is not found, never told apart."""
    try:
        return stored_value_cards_of(customer).select_related("programme").get(public_id=public_id)
    except (StoredValueCard.DoesNotExist, ValueError, ValidationError):
        raise NotFound("You have no stored-value card with this id.") from None


def stored_value_history(card: StoredValueCard) -> "QuerySet[StoredValueEntry]":
    return card.entries.order_by("-created_at", "-pk")
