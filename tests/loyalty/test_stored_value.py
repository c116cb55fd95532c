"""The stored-value card and its ledger: top-up within the programme's rules, payment never
below zero, refunds, manual adjustments with a reason, block and replace keeping the balance,
expiry, and the balance always the sum of the ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from loyalty import services
from loyalty.models import StoredValueCard, StoredValueEntry
from omni.core.errors import (
    CardBlocked,
    Conflict,
    InsufficientBalance,
    InvalidRequest,
    PermissionRefused,
)
from tests.loyalty.factories import customer
from tests.loyalty.stored_value_factories import card_with, staff_with, stored_value_programme

pytestmark = pytest.mark.django_db

K = StoredValueEntry.Kind


def ledger_sum(card: StoredValueCard) -> Decimal:
    return card.entries.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def assert_balance_is_ledger(card: StoredValueCard) -> None:
    card.refresh_from_db()
    assert card.balance == ledger_sum(card)


def test_a_new_card_has_a_hard_to_guess_luhn_checked_number_and_no_money():
    first, second = services.issue_stored_value_card(), services.issue_stored_value_card()
    assert len(first.number) == 19
    assert first.number.isdigit()
    assert services.luhn_check_digit(first.number[:-1]) == first.number[-1]
    assert first.number != second.number
    assert first.balance == 0
    assert first.status == StoredValueCard.Status.ACTIVE
    assert first.currency == stored_value_programme().currency


def test_top_up_credits_the_card_through_the_ledger():
    card = card_with("0")
    entry = services.top_up_stored_value(card=card, amount=Decimal("25.50"), idempotency_key="t1")
    assert entry.kind == K.TOP_UP
    assert entry.amount == Decimal("25.50")
    assert entry.balance_after == Decimal("25.50")
    assert_balance_is_ledger(card)
    assert card.balance == Decimal("25.50")


def test_a_retried_top_up_changes_nothing_twice():
    card = card_with("0")
    first = services.top_up_stored_value(card=card, amount=Decimal("10"), idempotency_key="same")
    again = services.top_up_stored_value(card=card, amount=Decimal("10"), idempotency_key="same")
    assert again.pk == first.pk
    card.refresh_from_db()
    assert card.balance == Decimal("10")


@pytest.mark.parametrize("amount", ["4.99", "500.01", "0", "-5", "10.001"])
def test_a_top_up_outside_the_programme_limits_is_refused_and_changes_nothing(amount):
    stored_value_programme(min_top_up=Decimal("5"), max_top_up=Decimal("500"))
    card = card_with("20")
    with pytest.raises(InvalidRequest) as refused:
        services.top_up_stored_value(card=card, amount=Decimal(amount), idempotency_key="t")
    assert refused.value.code == "invalid_request"
    card.refresh_from_db()
    assert card.balance == Decimal("20")
    assert card.entries.count() == 1


def test_a_top_up_past_the_maximum_balance_is_refused_with_the_room_left():
    stored_value_programme(max_balance=Decimal("600"))
    card = card_with("450")
    with pytest.raises(InvalidRequest) as refused:
        services.top_up_stored_value(card=card, amount=Decimal("200"), idempotency_key="t")
    assert refused.value.details["room"] == "150.00"
    card.refresh_from_db()
    assert card.balance == Decimal("450")


def test_payment_takes_the_amount_off_the_balance():
    card = card_with("30")
    entry = services.pay_with_stored_value(
        card=card, amount=Decimal("12.40"), idempotency_key="p1", reference="OM-1"
    )
    assert entry.kind == K.PAYMENT
    assert entry.amount == Decimal("-12.40")
    card.refresh_from_db()
    assert card.balance == Decimal("17.60")
    assert_balance_is_ledger(card)


def test_paying_more_than_the_balance_is_refused_and_takes_nothing():
    card = card_with("10")
    with pytest.raises(InsufficientBalance) as refused:
        services.pay_with_stored_value(card=card, amount=Decimal("10.01"), idempotency_key="p")
    assert refused.value.details == {"balance": "10.00", "requested": "10.01"}
    card.refresh_from_db()
    assert card.balance == Decimal("10")
    assert card.entries.count() == 1


def test_paying_in_another_currency_is_refused():
    card = card_with("10")
    with pytest.raises(InvalidRequest):
        services.pay_with_stored_value(
            card=card, amount=Decimal("1"), currency="XXX", idempotency_key="p"
        )


def test_a_blocked_card_pays_nothing_and_takes_no_top_up():
    card = card_with("50")
    services.block_stored_value_card(card=card, reason="Lost on the bus")
    with pytest.raises(CardBlocked):
        services.pay_with_stored_value(card=card, amount=Decimal("1"), idempotency_key="p")
    with pytest.raises(CardBlocked):
        services.top_up_stored_value(card=card, amount=Decimal("10"), idempotency_key="t")
    with pytest.raises(CardBlocked):
        services.stored_value_card_for(card.number)
    card.refresh_from_db()
    assert card.balance == Decimal("50")
    assert card.entries.count() == 1


def test_a_refund_goes_back_even_above_the_maximum_balance():
    stored_value_programme(max_balance=Decimal("500"))
    card = card_with("500")
    services.refund_to_stored_value(card=card, amount=Decimal("20"), idempotency_key="r")
    card.refresh_from_db()
    assert card.balance == Decimal("520")
    assert_balance_is_ledger(card)


def test_replacing_a_lost_card_moves_its_balance_to_a_new_number_in_one_go():
    owner = customer()
    old = card_with("73.25", customer=owner)
    new = services.replace_stored_value_card(card=old, reason="Lost")
    old.refresh_from_db()
    assert old.status == StoredValueCard.Status.REPLACED
    assert old.replaced_by == new
    assert old.balance == 0
    assert new.balance == Decimal("73.25")
    assert new.customer == owner
    assert new.number != old.number
    assert [e.kind for e in new.entries.all()] == [K.TRANSFER_IN]
    assert_balance_is_ledger(old)
    assert_balance_is_ledger(new)
    with pytest.raises(CardBlocked):
        services.stored_value_card_for(old.number)


def test_a_refund_to_a_replaced_card_lands_on_its_replacement():
    old = card_with("10")
    new = services.replace_stored_value_card(card=old, reason="Stolen")
    services.refund_to_stored_value(card=old, amount=Decimal("4"), idempotency_key="r")
    new.refresh_from_db()
    assert new.balance == Decimal("14")


def test_an_adjustment_needs_the_permission_and_a_reason_and_never_goes_below_zero():
    card = card_with("10")
    clerk, manager = staff_with(), staff_with("adjust_stored_value")
    with pytest.raises(PermissionRefused):
        services.adjust_stored_value(card=card, amount=Decimal("5"), reason="Goodwill", actor=clerk)
    with pytest.raises(InvalidRequest):
        services.adjust_stored_value(card=card, amount=Decimal("5"), reason=" ", actor=manager)
    with pytest.raises(InsufficientBalance):
        services.adjust_stored_value(
            card=card, amount=Decimal("-10.01"), reason="Fix", actor=manager
        )
    entry = services.adjust_stored_value(
        card=card, amount=Decimal("-2.50"), reason="Double top-up", actor=manager
    )
    assert entry.actor == manager
    assert entry.reason == "Double top-up"
    card.refresh_from_db()
    assert card.balance == Decimal("7.50")
    assert_balance_is_ledger(card)


def test_blocking_and_replacing_need_their_permission():
    card = card_with("10")
    with pytest.raises(PermissionRefused):
        services.block_stored_value_card(card=card, reason="Lost", actor=staff_with())
    with pytest.raises(PermissionRefused):
        services.replace_stored_value_card(card=card, reason="Lost", actor=staff_with())
    card.refresh_from_db()
    assert card.status == StoredValueCard.Status.ACTIVE


def test_the_ledger_is_append_only():
    card = card_with("10")
    entry = card.entries.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        StoredValueEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1000"))
    with pytest.raises(IntegrityError), transaction.atomic():
        StoredValueEntry.objects.filter(pk=entry.pk).delete()
    assert connection.vendor == "postgresql"


def test_balances_expire_after_the_programmes_months(time_machine):
    stored_value_programme(expiry_months=12, inactivity_months=None)
    card = card_with("40")
    time_machine.move_to(timezone.now() + timedelta(days=364))
    assert services.expire_stored_value() == 0
    time_machine.move_to(timezone.now() + timedelta(days=2))
    assert services.expire_stored_value() == 1
    card.refresh_from_db()
    assert card.balance == 0
    assert card.entries.first().kind == K.EXPIRY
    assert_balance_is_ledger(card)
    assert services.expire_stored_value() == 0


def test_an_unused_balance_expires_after_the_inactivity_months_and_use_keeps_it(time_machine):
    stored_value_programme(expiry_months=None, inactivity_months=6)
    idle, used = card_with("15"), card_with("15")
    time_machine.move_to(timezone.now() + timedelta(days=150))
    services.pay_with_stored_value(card=used, amount=Decimal("1"), idempotency_key="keep-alive")
    time_machine.move_to(timezone.now() + timedelta(days=40))
    assert services.expire_stored_value(batch_size=1) == 1
    idle.refresh_from_db()
    used.refresh_from_db()
    assert idle.balance == 0
    assert used.balance == Decimal("14")


def test_no_rule_no_expiry(time_machine):
    stored_value_programme(expiry_months=None, inactivity_months=None)
    card = card_with("15")
    time_machine.move_to(timezone.now() + timedelta(days=3650))
    assert services.expire_stored_value() == 0
    card.refresh_from_db()
    assert card.balance == Decimal("15")


def test_a_gift_card_is_claimed_once_by_its_recipient():
    gift = card_with("25", kind=StoredValueCard.Kind.GIFT)
    recipient, other = customer(), customer()
    claimed = services.claim_stored_value_card(number=gift.number, customer=recipient)
    assert claimed.customer == recipient
    with pytest.raises(Conflict):
        services.claim_stored_value_card(number=gift.number, customer=other)
