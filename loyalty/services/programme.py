"""The programme a customer joins, its entry tier, and joining it (an account with a card)."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from loyalty.locks import lock_account
from loyalty.models import Account, Programme, Tier
from loyalty.services.cards import issue_card
from omni.core.errors import Conflict, NotConfigured

YEAR = timedelta(days=365)


def current_programme() -> Programme:
    programme = Programme.objects.order_by("pk").first()
    if programme is None:
        raise NotConfigured("No loyalty programme is set up yet (admin: Loyalty > Programmes).")
    return programme


def entry_tier(programme: Programme) -> Tier:
    tier = programme.tiers.order_by("rank").first()
    if tier is None:
        raise NotConfigured(f"The programme {programme} has no tiers.")
    return tier


@transaction.atomic
def enrol(*, customer: Customer) -> Account:
    """The customer's account, created with a card on first use (safe to call again).
    An erased customer is not enrolled: a new card would identify them again."""
    existing = Account.objects.filter(customer=customer).first()
    if existing:
        return existing
    if customer.erased_at is not None:
        raise Conflict("An erased customer cannot join the loyalty programme.")
    programme = current_programme()
    account, created = Account.objects.get_or_create(
        customer=customer,
        defaults={
            "programme": programme,
            "tier": entry_tier(programme),
            "tier_anniversary": (timezone.now() + YEAR).date(),
        },
    )
    if created:
        issue_card(account)
    return account


def enrolled_and_locked(customer: Customer) -> Account:
    """The customer's account (enrolled on first use), locked for a points movement."""
    return lock_account(enrol(customer=customer).pk)
