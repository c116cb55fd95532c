"""Stored-value cards with money on them, for the loyalty, orders and clerk tests."""

from decimal import Decimal

from django.contrib.auth.models import Permission

from customers.models import Customer
from loyalty import services
from loyalty.models import StoredValueCard, StoredValueProgramme
from tests.customers.factories import StaffFactory


def stored_value_programme(**rules) -> StoredValueProgramme:
    programme = services.stored_value_programme()
    for field, value in rules.items():
        setattr(programme, field, value)
    programme.save()
    return programme


def card_with(
    balance: str | Decimal = "0", *, customer: Customer | None = None, **fields
) -> StoredValueCard:
    """A card holding ``balance``, loaded through the ledger (one top-up)."""
    card = services.issue_stored_value_card(customer=customer, **fields)
    if Decimal(balance):
        services.top_up_stored_value(
            card=card, amount=Decimal(balance), idempotency_key=f"load:{card.pk}", source="test"
        )
        card.refresh_from_db()
    return card


def staff_with(*codenames: str, **fields):
    user = StaffFactory(**fields)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="loyalty", codename__in=codenames)
    )
    return type(user).objects.get(pk=user.pk)  # fresh: permissions are cached per instance
