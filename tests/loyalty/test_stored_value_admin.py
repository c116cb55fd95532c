"""The stored-value admin: card search, balance adjustment with a reason (a permission), block,
and replacing a lost card keeping its balance."""

from decimal import Decimal

import pytest
from django.test import Client

from loyalty.models import StoredValueCard, StoredValueEntry
from tests.loyalty.factories import customer
from tests.loyalty.stored_value_factories import card_with, staff_with

pytestmark = pytest.mark.django_db

ADMIN = "/admin/loyalty/storedvaluecard"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_cards_are_found_by_number_and_by_owner_email(admin_client):
    mine = card_with("10", customer=customer(email="lea@example.com"))
    other = card_with("20", customer=customer(email="tom@example.com"))

    by_number = admin_client.get(f"{ADMIN}/", {"q": mine.number})
    by_email = admin_client.get(f"{ADMIN}/", {"q": "lea@example.com"})

    assert by_number.status_code == 200
    assert mine.number in by_number.content.decode()
    assert other.number not in by_number.content.decode()
    assert mine.number in by_email.content.decode()
    assert other.number not in by_email.content.decode()


def test_the_card_page_shows_its_ledger(admin_client):
    card = card_with("10")
    response = admin_client.get(f"{ADMIN}/{card.pk}/change/")
    assert response.status_code == 200
    assert "Top-up" in response.content.decode()


def test_an_adjustment_with_a_reason_is_written_with_who_made_it(admin_client, admin_user):
    card = card_with("10")

    response = admin_client.post(
        f"{ADMIN}/{card.pk}/adjust/", {"amount": "-2.50", "reason": "Charged twice"}
    )

    assert response.status_code == 302
    entry = card.entries.get(kind=StoredValueEntry.Kind.ADJUSTMENT)
    assert (entry.amount, entry.actor, entry.reason) == (
        Decimal("-2.50"),
        admin_user,
        "Charged twice",
    )
    card.refresh_from_db()
    assert card.balance == Decimal("7.50")


def test_an_adjustment_without_a_reason_or_below_zero_is_refused_and_writes_nothing(admin_client):
    card = card_with("10")

    no_reason = admin_client.post(f"{ADMIN}/{card.pk}/adjust/", {"amount": "5", "reason": ""})
    too_much = admin_client.post(f"{ADMIN}/{card.pk}/adjust/", {"amount": "-11", "reason": "x"})

    assert no_reason.status_code == 200
    assert too_much.status_code == 200
    assert "holds 10.00" in too_much.content.decode()
    assert card.entries.count() == 1


def test_staff_without_the_permission_cannot_adjust(db):
    card = card_with("10")
    viewer = staff_with("view_storedvaluecard")

    response = signed_in(viewer).post(f"{ADMIN}/{card.pk}/adjust/", {"amount": "50", "reason": "x"})

    assert response.status_code == 302
    assert card.entries.count() == 1


def test_staff_with_the_permission_can_adjust(db):
    card = card_with("10")
    manager = staff_with("view_storedvaluecard", "adjust_stored_value")

    signed_in(manager).post(f"{ADMIN}/{card.pk}/adjust/", {"amount": "5", "reason": "Goodwill"})

    card.refresh_from_db()
    assert card.balance == Decimal("15")


def test_replacing_a_lost_card_moves_its_balance_to_the_new_one(admin_client):
    owner = customer()
    card = card_with("42", customer=owner)

    response = admin_client.post(
        f"{ADMIN}/{card.pk}/block/", {"action": "replace", "reason": "Lost, reported by phone"}
    )

    new = StoredValueCard.objects.get(replaces=card)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/{new.pk}/change/")
    card.refresh_from_db()
    assert card.status == StoredValueCard.Status.REPLACED
    assert card.balance == 0
    assert new.balance == Decimal("42")
    assert new.customer == owner


def test_blocking_a_card_keeps_its_money_and_needs_the_permission(db, admin_client):
    card = card_with("42")
    clerk = staff_with("view_storedvaluecard")

    signed_in(clerk).post(f"{ADMIN}/{card.pk}/block/", {"action": "block", "reason": "Stolen"})
    card.refresh_from_db()
    assert card.status == StoredValueCard.Status.ACTIVE

    admin_client.post(f"{ADMIN}/{card.pk}/block/", {"action": "block", "reason": "Stolen"})
    card.refresh_from_db()
    assert card.status == StoredValueCard.Status.BLOCKED
    assert card.balance == Decimal("42")


def test_the_programme_rules_are_edited_in_the_admin(admin_client):
    response = admin_client.get("/admin/loyalty/storedvalueprogramme/")
    assert response.status_code == 200
