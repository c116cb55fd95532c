"""A customer's gift and wallet cards in their data export, and what erasure removes."""

from decimal import Decimal

import pytest
from django.utils import timezone

from customers.selectors import customer_export
from customers.services import erase_customer
from tests.loyalty.factories import customer
from tests.loyalty.stored_value_factories import card_with

pytestmark = pytest.mark.django_db


def test_the_export_holds_my_cards_and_their_ledger():
    me = customer()
    card = card_with("20", customer=me)

    exported = customer_export(me, now=timezone.now())["stored_value"]

    assert [c["number"] for c in exported] == [card.number]
    assert exported[0]["balance"] == "20.00"
    assert [e["kind"] for e in exported[0]["entries"]] == ["top_up"]


def test_erasure_keeps_the_money_and_drops_the_gift_details():
    me = customer()
    card = card_with("20", customer=me, recipient_email="me@example.com", gift_message="Love")

    erase_customer(customer=me, requested_via="admin")

    card.refresh_from_db()
    assert card.balance == Decimal("20")
    assert (card.recipient_email, card.gift_message) == ("", "")
