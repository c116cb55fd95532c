"""Paying with a stored-value card at checkout and at the till, alone or with another tender
(split tender), and its money coming back: a declined second tender, a cancelled order, a
return (the card's share of the refund)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from inventory.models import Reservation
from loyalty import services as loyalty
from omni.core.errors import CardBlocked, InsufficientBalance, PaymentDeclined
from orders import services
from orders.models import Order, Payment
from orders.services import ReturnedItem
from tests.loyalty.stored_value_factories import card_with

pytestmark = pytest.mark.django_db

SV = Payment.STORED_VALUE


def pickup_checkout(customer, *, card, token="tok", jackets=1, key="k"):
    cart = services.cart_of(customer=customer)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=jackets, channel="web")
    return services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="web",
        idempotency_key=key,
        pickup_store_code="PAR-RIV",
        payment_token=token,
        stored_value_card=card,
    ).order


def tenders(order):
    return [(p.provider, p.amount, p.status) for p in order.payments.order_by("pk")]


def balance(card):
    card.refresh_from_db()
    return card.balance


def test_a_card_that_covers_the_order_pays_it_alone(shop, camille):
    card = card_with("200", customer=camille)

    order = pickup_checkout(camille, card=card)

    assert tenders(order) == [(SV, Decimal("89.00"), Payment.Status.AUTHORIZED)]
    assert balance(card) == Decimal("111.00")
    payment_entry = card.entries.first()
    assert payment_entry.reference == order.number
    assert payment_entry.amount == Decimal("-89.00")


def test_split_tender_takes_the_card_first_up_to_its_balance_and_the_rest_by_the_provider(
    shop, camille
):
    card = card_with("50", customer=camille)

    order = pickup_checkout(camille, card=card)

    assert tenders(order) == [
        (SV, Decimal("50.00"), Payment.Status.AUTHORIZED),
        ("demo", Decimal("39.00"), Payment.Status.AUTHORIZED),
    ]
    assert balance(card) == 0


def test_a_declined_second_tender_refuses_the_checkout_and_the_card_keeps_its_money(shop, camille):
    card = card_with("50", customer=camille)

    with pytest.raises(PaymentDeclined):
        pickup_checkout(camille, card=card, token="decline")

    assert balance(card) == Decimal("50")
    assert card.entries.count() == 1  # the load only: the debit rolled back with the order
    assert not Order.objects.exists()
    assert not Reservation.objects.filter(kind=Reservation.Kind.ORDER).exists()


def test_a_blocked_card_is_refused_at_checkout_and_nothing_changes(shop, camille):
    card = card_with("200", customer=camille)
    loyalty.block_stored_value_card(card=card, reason="Lost")

    with pytest.raises(CardBlocked):
        pickup_checkout(camille, card=card)

    assert balance(card) == Decimal("200")
    assert not Order.objects.exists()


def test_an_empty_card_is_refused_at_checkout(shop, camille):
    card = card_with("0", customer=camille)

    with pytest.raises(InsufficientBalance):
        pickup_checkout(camille, card=card)

    assert not Order.objects.exists()


def test_a_retried_checkout_takes_the_card_once(shop, camille):
    card = card_with("200", customer=camille)

    first = pickup_checkout(camille, card=card, key="same")
    again = pickup_checkout(camille, card=card, key="same")

    assert again == first
    assert balance(card) == Decimal("111.00")


def test_collecting_captures_the_card_tender_without_moving_money_again(shop, camille):
    card = card_with("50", customer=camille)
    order = pickup_checkout(camille, card=card)
    clerk = User.objects.create_user("clerk", is_staff=True)
    order = services.mark_ready_for_pickup(order=order, actor=clerk)

    services.collect_pickup(order=order, code=order.pickup_code, actor=clerk)

    assert {status for _, _, status in tenders(order)} == {Payment.Status.CAPTURED}
    assert balance(card) == 0


def test_a_cancelled_order_gives_the_card_its_money_back(shop, camille):
    card = card_with("50", customer=camille)
    order = pickup_checkout(camille, card=card)

    services.cancel_order(order=order, by_customer=camille)

    assert balance(card) == Decimal("50")
    assert {status for _, _, status in tenders(order)} == {Payment.Status.VOIDED}
    assert card.entries.first().kind == "refund"


def test_a_return_refunds_the_card_its_share_of_a_split_payment(shop, camille):
    card = card_with("89", customer=camille)
    order = pickup_checkout(camille, card=card, jackets=2)  # 178: 89 by card, 89 by the bank
    clerk = User.objects.create_user("clerk", is_staff=True)
    order = services.mark_ready_for_pickup(order=order, actor=clerk)
    services.collect_pickup(order=order, code=order.pickup_code, actor=clerk)

    services.return_items(
        order=order,
        items=[ReturnedItem(order.lines.get().pk, 1, restock=True)],
        location=shop.rivoli,
        idempotency_key="ret-1",
    )

    assert balance(card) == Decimal("44.50")
    by_tender = {p.provider: p.refunded for p in order.payments.all()}
    assert by_tender == {SV: Decimal("44.50"), "demo": Decimal("44.50")}
    assert card.entries.first().kind == "refund"
    assert card.entries.first().reference == order.number


def test_returning_everything_refunds_the_card_all_it_paid(shop, camille):
    card = card_with("100", customer=camille)
    order = pickup_checkout(camille, card=card)
    clerk = User.objects.create_user("clerk", is_staff=True)
    order = services.mark_ready_for_pickup(order=order, actor=clerk)
    services.collect_pickup(order=order, code=order.pickup_code, actor=clerk)

    services.return_items(
        order=order,
        items=[ReturnedItem(order.lines.get().pk, 1, restock=False)],
        idempotency_key="ret-all",
    )

    assert balance(card) == Decimal("100")


def test_a_till_sale_paid_by_card_and_at_the_till_completes_at_once(shop):
    card = card_with("20")  # a gift card nobody claimed: whoever holds it pays with it
    clerk = User.objects.create_user("till", is_staff=True)
    cart = services.cart_of()
    services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=2, channel="store")

    order = services.checkout(
        cart=cart,
        fulfilment="in_store",
        channel="store",
        idempotency_key="till-1",
        clerk=clerk,
        till_store=shop.rivoli,
        stored_value_card=loyalty.stored_value_card_for(card.number),
    ).order

    assert order.status == Order.Status.COMPLETED
    assert tenders(order) == [
        (SV, Decimal("20.00"), Payment.Status.CAPTURED),
        ("demo", Decimal("18.00"), Payment.Status.CAPTURED),
    ]
    assert balance(card) == 0
    assert card.entries.first().actor == clerk
