from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from inventory.models import StockLevel, StockMovement
from loyalty import services as loyalty
from loyalty.models import Account
from loyalty.services import QuoteLine
from omni.core.errors import InvalidRequest
from orders import services
from orders.services import ReturnedItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def collected(shop, camille):
    """Camille collected 2 jackets and a beanie at Rivoli, paying 100 points towards them."""
    loyalty.earn_for_order(
        customer=camille,
        reference="old",
        lines=[QuoteLine(Decimal(100))],
        channel="web",
        idempotency_key="old",
    )
    loyalty.mature_points(now=timezone.now() + timedelta(days=31))
    clerk = User.objects.create_user("clerk", is_staff=True)
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=2, channel="ios")
    services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=1, channel="ios")
    order = services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="ios",
        idempotency_key="k",
        pickup_store_code="PAR-RIV",
        redeem_points=100,
    ).order
    order = services.mark_ready_for_pickup(order=order, actor=clerk)
    services.collect_pickup(order=order, code=order.pickup_code, actor=clerk)
    order.refresh_from_db()
    return order


def jacket_line(order):
    return order.lines.get(sku__code="RAIN-JACKET-M")


def test_a_return_at_another_store_refunds_the_pro_rata_price_restocks_and_reverses_points(
    shop, camille, collected
):
    ret = services.return_items(
        order=collected,
        items=[ReturnedItem(jacket_line(collected).pk, 1, restock=True)],
        location=shop.bastille,
        idempotency_key="ret-1",
    )

    # The jacket line paid 178.00 less its share of the 1.00 points discount.
    line = jacket_line(collected)
    assert line.discount == Decimal("0.90")
    assert ret.refund_amount == Decimal("88.55")
    assert StockLevel.objects.get(sku=shop.jacket, location=shop.bastille).on_hand == 1
    assert StockMovement.objects.get(kind="return").quantity == 1
    account = Account.objects.get(customer=camille)
    assert account.pending == 196 - 89  # 196 earned on 196.00 paid, 89 reversed
    assert ret.points_reversed == 89
    payment = collected.payments.get()
    assert (payment.refunded, payment.status) == (Decimal("88.55"), "refunded")


def test_a_damaged_item_is_refunded_but_not_put_back_on_sale(shop, camille, collected):
    services.return_items(
        order=collected,
        items=[ReturnedItem(jacket_line(collected).pk, 1, restock=False)],
        location=shop.bastille,
        idempotency_key="ret-1",
    )

    assert not StockLevel.objects.filter(sku=shop.jacket, location=shop.bastille).exists()
    assert not StockMovement.objects.filter(kind="return").exists()


def test_nothing_can_be_returned_twice(shop, camille, collected):
    line = jacket_line(collected)
    services.return_items(
        order=collected,
        items=[ReturnedItem(line.pk, 2, restock=True)],
        location=shop.rivoli,
        idempotency_key="ret-1",
    )

    with pytest.raises(InvalidRequest, match="0 of RAIN-JACKET-M"):
        services.return_items(
            order=collected,
            items=[ReturnedItem(line.pk, 1, restock=True)],
            location=shop.rivoli,
            idempotency_key="ret-2",
        )

    assert StockMovement.objects.filter(kind="return").count() == 1


def test_a_retried_return_changes_nothing(shop, camille, collected):
    item = [ReturnedItem(jacket_line(collected).pk, 1, restock=True)]

    first = services.return_items(
        order=collected, items=item, location=shop.rivoli, idempotency_key="ret-1"
    )
    again = services.return_items(
        order=collected, items=item, location=shop.rivoli, idempotency_key="ret-1"
    )

    assert first == again
    assert jacket_line(collected).returned_quantity == 1


def test_an_order_not_yet_handed_over_cannot_be_returned(shop, camille):
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=1, channel="web")
    order = services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="web",
        idempotency_key="k",
        pickup_store_code="PAR-RIV",
    ).order

    with pytest.raises(InvalidRequest, match="cannot be returned"):
        services.return_items(
            order=order,
            items=[ReturnedItem(order.lines.get().pk, 1, True)],
            location=shop.rivoli,
            idempotency_key="r",
        )
