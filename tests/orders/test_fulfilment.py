from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from inventory.models import Reservation, StockLevel, StockMovement
from loyalty import services as loyalty
from loyalty.models import Account, PointsEntry
from loyalty.services import QuoteLine
from omni.core.errors import InvalidRequest, InvalidTransition, WrongPickupCode
from orders import services
from orders.models import Order
from orders.services import fulfilment
from tests.loyalty.factories import customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(db):
    return User.objects.create_user("clerk", is_staff=True)


def pickup_order(customer, quantity=1, key="k") -> Order:
    cart = services.cart_of(customer=customer)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=quantity, channel="ios")
    return services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="ios",
        idempotency_key=key,
        pickup_store_code="PAR-RIV",
    ).order


def jacket_level(shop) -> StockLevel:
    return StockLevel.objects.get(sku=shop.jacket, location=shop.rivoli)


def test_ready_gives_a_six_digit_code_and_starts_the_stores_hold_period(shop, camille, clerk):
    order = pickup_order(camille)

    ready = services.mark_ready_for_pickup(order=order, actor=clerk)

    assert ready.status == "ready_for_pickup"
    assert len(ready.pickup_code) == 6
    assert ready.pickup_code.isdigit()
    hold = ready.pickup_expires_at - timezone.now()
    assert timedelta(days=shop.rivoli.pickup_hold_days - 1) < hold
    assert hold <= timedelta(days=shop.rivoli.pickup_hold_days)
    event = ready.events.last()
    assert (event.to_status, event.actor, event.actor_label) == (
        "ready_for_pickup",
        clerk,
        "staff:clerk",
    )


def test_collecting_with_the_right_code_consumes_stock_captures_and_earns_points(
    shop, camille, clerk
):
    order = services.mark_ready_for_pickup(order=pickup_order(camille), actor=clerk)

    services.collect_pickup(order=order, code=order.pickup_code, actor=clerk)

    order.refresh_from_db()
    assert order.status == "collected"
    level = jacket_level(shop)
    assert (level.on_hand, level.reserved) == (2, 0)
    assert StockMovement.objects.get(kind="sale").reference == order.reservation_reference
    assert order.payments.get().status == "captured"
    assert Account.objects.get(customer=camille).pending == 89
    assert PointsEntry.objects.get(kind="earn").reference == order.number


def test_a_wrong_pick_up_code_is_refused_and_changes_nothing(shop, camille, clerk):
    order = services.mark_ready_for_pickup(order=pickup_order(camille), actor=clerk)
    wrong = "000000" if order.pickup_code != "000000" else "111111"

    with pytest.raises(WrongPickupCode):
        services.collect_pickup(order=order, code=wrong, actor=clerk)

    order.refresh_from_db()
    assert order.status == "ready_for_pickup"
    assert jacket_level(shop).reserved == 1


def test_an_order_cannot_be_collected_before_it_is_ready(shop, camille, clerk):
    order = pickup_order(camille)

    with pytest.raises(InvalidTransition):
        services.collect_pickup(order=order, code="123456", actor=clerk)


def test_the_customer_may_cancel_before_ready_and_everything_is_put_back(shop, camille):
    order = pickup_order(camille, quantity=2)

    services.cancel_order(order=order, by_customer=camille)

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert jacket_level(shop).reserved == 0
    assert order.payments.get().status == "voided"


def test_the_customer_may_not_cancel_once_ready_but_the_store_may(shop, camille, clerk):
    order = services.mark_ready_for_pickup(order=pickup_order(camille), actor=clerk)

    with pytest.raises(InvalidRequest, match="ask the store"):
        services.cancel_order(order=order, by_customer=camille)
    services.cancel_order(order=order, actor=clerk, note="Customer phoned")

    assert Order.objects.get().status == "cancelled"


def test_a_customer_cannot_cancel_someone_elses_order(shop, camille):
    order = pickup_order(camille)

    with pytest.raises(InvalidRequest):
        services.cancel_order(order=order, by_customer=customer())

    assert Order.objects.get().status == "placed"


def test_a_delivery_order_ships_then_is_delivered_and_earns_points(shop, camille, clerk):
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=2, channel="web")
    order = services.checkout(
        cart=cart,
        fulfilment="delivery",
        channel="web",
        idempotency_key="k",
        address=services.Address("C. Martin", "1 rue de Rivoli", "Paris", "75001", "FR"),
    ).order

    services.ship(
        shipment=order.shipments.get(),
        tracking=services.Tracking("Colissimo", "6A123"),
        actor=clerk,
    )
    services.mark_delivered(order=order, actor=clerk)

    order.refresh_from_db()
    assert order.status == "delivered"
    assert list(order.events.values_list("to_status", flat=True)) == [
        "placed",
        "allocated",
        "shipped",
        "delivered",
    ]
    warehouse = StockLevel.objects.get(sku=shop.jacket, location=shop.warehouse)
    assert (warehouse.on_hand, warehouse.reserved) == (18, 0)
    assert Account.objects.get(customer=camille).pending == 178


def test_reminders_go_once_a_day_before_and_uncollected_pick_ups_expire(
    shop, camille, clerk, time_machine
):
    order = services.mark_ready_for_pickup(order=pickup_order(camille), actor=clerk)
    deadline = order.pickup_expires_at

    time_machine.move_to(deadline - timedelta(hours=30))
    assert services.send_pickup_reminders() == []
    time_machine.move_to(deadline - timedelta(hours=20))
    assert [o.pk for o in services.send_pickup_reminders()] == [order.pk]
    assert services.send_pickup_reminders() == []

    time_machine.move_to(deadline + timedelta(minutes=1))
    expired = services.expire_uncollected_pickups()
    again = services.expire_uncollected_pickups()  # a second (or resumed) run

    assert ([o.pk for o in expired], again) == ([order.pk], [])
    order.refresh_from_db()
    assert order.status == "expired"
    assert jacket_level(shop).reserved == 0
    assert Reservation.objects.get().status == "released"
    assert order.payments.get().status == "voided"


def test_an_expired_order_with_points_gets_them_back(shop, camille, clerk, time_machine):
    loyalty.earn_for_order(
        customer=camille,
        reference="old",
        lines=[QuoteLine(Decimal(300))],
        channel="web",
        idempotency_key="old",
    )
    time_machine.move_to(timezone.now() + timedelta(days=31))
    loyalty.mature_points()
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=1, channel="ios")
    order = services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="ios",
        idempotency_key="k",
        pickup_store_code="PAR-RIV",
        redeem_points=200,
    ).order
    order = services.mark_ready_for_pickup(order=order, actor=clerk)

    time_machine.move_to(order.pickup_expires_at + timedelta(minutes=1))
    services.expire_uncollected_pickups()

    assert Account.objects.get(customer=camille).available == 300


def test_an_interrupted_expiry_run_resumes_without_releasing_anything_twice(
    shop, camille, clerk, time_machine, monkeypatch
):
    orders = []
    for n in range(3):
        cart = services.cart_of(customer=customer())
        services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=2, channel="web")
        order = services.checkout(
            cart=cart,
            fulfilment="pickup",
            channel="web",
            idempotency_key=f"k{n}",
            pickup_store_code="PAR-RIV",
        ).order
        orders.append(services.mark_ready_for_pickup(order=order, actor=clerk))
    time_machine.move_to(orders[-1].pickup_expires_at + timedelta(minutes=1))
    real_undo, calls = fulfilment._undo_checkout, []

    def crash_on_second(order):
        calls.append(order.pk)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        real_undo(order)

    monkeypatch.setattr(fulfilment, "_undo_checkout", crash_on_second)
    with pytest.raises(RuntimeError):
        services.expire_uncollected_pickups()
    monkeypatch.setattr(fulfilment, "_undo_checkout", real_undo)

    resumed = services.expire_uncollected_pickups()

    assert len(resumed) == 2
    assert set(Order.objects.values_list("status", flat=True)) == {"expired"}
    level = StockLevel.objects.get(sku=shop.beanie, location=shop.rivoli)
    assert (level.on_hand, level.reserved) == (10, 0)
    assert Reservation.objects.filter(status="released").count() == 3
