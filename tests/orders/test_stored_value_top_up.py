"""Money onto stored-value cards: a top-up paid online through the provider or at the till,
and gift cards bought online or sold in store, sent by e-mail through the outbox."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from customers.models import Customer, Notification
from loyalty.models import StoredValueCard
from omni.core.errors import CardBlocked, InvalidRequest, PaymentDeclined
from orders import services
from tests.loyalty.factories import customer
from tests.loyalty.stored_value_factories import card_with, stored_value_programme

pytestmark = pytest.mark.django_db


def balance(card):
    card.refresh_from_db()
    return card.balance


def test_an_online_top_up_is_charged_through_the_provider_and_credited(db):
    card = card_with("10", customer=customer())

    topped = services.top_up_online(
        card=card, amount=Decimal("40"), payment_token="tok", channel="ios", idempotency_key="k"
    )

    assert topped.card.balance == Decimal("50")
    assert topped.entry.reference.startswith("demo:demo_")
    assert topped.entry.channel == "ios"
    assert topped.entry.source == "online"


def test_a_retried_top_up_is_charged_and_credited_once(db):
    card = card_with("10", customer=customer())
    for _ in range(2):
        services.top_up_online(
            card=card, amount=Decimal("40"), payment_token="t", channel="web", idempotency_key="k"
        )
    assert balance(card) == Decimal("50")


@pytest.mark.parametrize("amount", ["2.00", "250.01"])
def test_a_top_up_below_the_minimum_or_above_the_maximum_is_refused_and_nothing_changes(amount):
    stored_value_programme(min_top_up=Decimal("5"), max_top_up=Decimal("250"))
    card = card_with("10", customer=customer())

    with pytest.raises(InvalidRequest) as refused:
        services.top_up_online(
            card=card, amount=Decimal(amount), payment_token="t", channel="web", idempotency_key="k"
        )

    assert refused.value.details == {"min": "5.00", "max": "250.00"}
    assert balance(card) == Decimal("10")
    assert card.entries.count() == 1


def test_a_declined_top_up_credits_nothing(db):
    card = card_with("10", customer=customer())
    with pytest.raises(PaymentDeclined):
        services.top_up_online(
            card=card,
            amount=Decimal("40"),
            payment_token="decline",
            channel="web",
            idempotency_key="k",
        )
    assert balance(card) == Decimal("10")


def test_a_blocked_card_takes_no_top_up(db):
    from loyalty import services as loyalty

    card = card_with("10", customer=customer())
    loyalty.block_stored_value_card(card=card, reason="Lost")
    with pytest.raises(CardBlocked):
        services.top_up_online(
            card=card, amount=Decimal("40"), payment_token="t", channel="web", idempotency_key="k"
        )
    assert balance(card) == Decimal("10")


def test_a_top_up_at_the_till_is_recorded_with_the_clerk(db):
    card = card_with("0")
    clerk = User.objects.create_user("till", is_staff=True)

    topped = services.top_up_at_till(
        card=card, amount=Decimal("30"), clerk=clerk, idempotency_key="t1"
    )

    assert topped.card.balance == Decimal("30")
    assert topped.entry.actor == clerk
    assert topped.entry.channel == "store"


def test_a_gift_card_bought_online_for_someone_is_theirs_and_sent_by_email(db):
    buyer = customer(first_name="Camille")

    bought = services.buy_gift_card(
        amount=Decimal("50"),
        payment_token="tok",
        channel="web",
        idempotency_key="g1",
        buyer=buyer,
        recipient_email="Lea@Example.com",
        message="Happy birthday!",
    )

    card = bought.card
    assert card.kind == StoredValueCard.Kind.GIFT
    assert card.balance == Decimal("50")
    recipient = Customer.objects.get(email="lea@example.com")
    assert card.customer == recipient
    sent = Notification.objects.get(topic="orders.gift_card")
    assert sent.customer == recipient
    assert sent.kind == Notification.Kind.TRANSACTIONAL
    assert sent.channel == Notification.Channel.EMAIL
    assert card.number in sent.body
    assert "Camille" in sent.body
    assert "Happy birthday!" in sent.body


def test_a_retried_gift_card_purchase_issues_one_card(db):
    buyer = customer()
    first = services.buy_gift_card(
        amount=Decimal("50"), payment_token="t", channel="web", idempotency_key="g", buyer=buyer
    )
    again = services.buy_gift_card(
        amount=Decimal("50"), payment_token="t", channel="web", idempotency_key="g", buyer=buyer
    )
    assert again.card == first.card
    assert StoredValueCard.objects.count() == 1
    assert first.card.customer == buyer


def test_a_declined_gift_card_purchase_leaves_no_card(db):
    with pytest.raises(PaymentDeclined):
        services.buy_gift_card(
            amount=Decimal("50"),
            payment_token="decline",
            channel="web",
            idempotency_key="g",
            buyer=customer(),
        )
    assert not StoredValueCard.objects.exists()


def test_a_gift_card_outside_the_top_up_limits_is_refused_and_leaves_no_card(db):
    stored_value_programme(max_top_up=Decimal("100"))
    with pytest.raises(InvalidRequest):
        services.buy_gift_card(
            amount=Decimal("150"),
            payment_token="t",
            channel="web",
            idempotency_key="g",
            buyer=customer(),
        )
    assert not StoredValueCard.objects.exists()


def test_a_gift_card_sold_at_the_till_is_active_and_loaded(db):
    clerk = User.objects.create_user("till", is_staff=True)

    sold = services.sell_gift_card_at_till(amount=Decimal("25"), clerk=clerk, idempotency_key="s1")

    assert sold.card.status == StoredValueCard.Status.ACTIVE
    assert sold.card.balance == Decimal("25")
    assert sold.card.customer is None
    assert sold.entry.actor == clerk
