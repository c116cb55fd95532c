"""Two payments from one stored-value card at the same moment, on a real PostgreSQL server."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from loyalty import services
from loyalty.models import StoredValueCard
from omni.core.errors import InsufficientBalance
from tests.concurrency import run_concurrently
from tests.loyalty.stored_value_factories import card_with

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def payment(card: StoredValueCard, amount: str, n: int):
    return lambda: services.pay_with_stored_value(
        card=card, amount=Decimal(amount), idempotency_key=f"pay:{n}", channel="store"
    )


def test_two_payments_at_once_when_only_one_fits_exactly_one_succeeds():
    card = card_with("30")

    outcome = run_concurrently(
        [payment(card, "20", 1), payment(card, "20", 2)], InsufficientBalance
    )

    summary = outcome.summary(2)
    assert not outcome.crashed, summary
    assert len(outcome.granted) == 1, summary
    assert len(outcome.refused) == 1, summary
    assert outcome.refused[0].details["balance"] == "10.00"
    card.refresh_from_db()
    assert card.balance == Decimal("10")
    assert card.entries.aggregate(total=Sum("amount"))["total"] == card.balance


def test_many_payments_at_once_never_take_the_balance_below_zero():
    card = card_with("100")
    attempts = 12

    outcome = run_concurrently(
        [payment(card, "15", n) for n in range(attempts)], InsufficientBalance
    )

    summary = outcome.summary(attempts)
    assert not outcome.crashed, summary
    assert len(outcome.granted) == 6, summary  # 6 x 15 = 90; a seventh would need 105
    card.refresh_from_db()
    assert card.balance == Decimal("10")
    assert card.entries.aggregate(total=Sum("amount"))["total"] == card.balance
