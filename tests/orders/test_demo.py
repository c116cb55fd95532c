"""The demo's orders: every state that matters, made through the services, loaded twice."""

from decimal import Decimal

import pytest

from inventory.ledger_check import drifts_between
from inventory.models import Reservation, StockMovement
from loyalty.models import PointsEntry, StoredValueCard, StoredValueEntry
from omni.demo import load_demo
from orders.models import (
    Cart,
    CartLine,
    Order,
    OrderEvent,
    Payment,
    Return,
    Shipment,
    WishListItem,
)

pytestmark = pytest.mark.django_db


def row_counts() -> dict:
    models = (Order, OrderEvent, Payment, Shipment, Return, Cart, CartLine, StockMovement)
    wallets = (WishListItem, StoredValueCard, StoredValueEntry)
    counts = {model.__name__: model.objects.count() for model in (*models, PointsEntry, *wallets)}
    counts["active holds"] = Reservation.objects.filter(status="active").count()
    return counts


@pytest.fixture
def demo():
    load_demo()


def test_the_demo_has_orders_in_every_state_that_matters(demo):
    statuses = set(Order.objects.values_list("status", flat=True))

    assert {
        "placed",
        "ready_for_pickup",
        "collected",
        "cancelled",
        "expired",
        "allocated",
        "shipped",
        "delivered",
        "completed",
    } <= statuses
    assert set(Order.objects.values_list("fulfilment", flat=True)) == {
        "pickup",
        "delivery",
        "in_store",
    }


def test_the_demo_pick_up_orders_carry_their_codes_and_timelines(demo):
    ready = Order.objects.get(status="ready_for_pickup")
    expired = Order.objects.get(status="expired")

    assert len(ready.pickup_code) == 6
    assert list(expired.events.values_list("to_status", flat=True)) == [
        "placed",
        "ready_for_pickup",
        "expired",
    ]
    assert expired.pickup_reminder_sent_at is not None
    assert Order.objects.get(status="completed").clerk.username == "clerk"


def test_the_demo_clerks_store_has_a_web_order_to_ship_and_shipped_orders_have_parcels(demo):
    to_ship = Shipment.objects.get(status="allocated")

    assert to_ship.location.code == "PAR-RIV"  # where the demo clerk works: "To ship" shows it
    assert to_ship.order.fulfilment == "delivery"
    shipped = Order.objects.get(status="shipped").shipments.get().parcels.get()
    assert shipped.tracking_url.startswith("https://")


def test_the_demo_return_is_at_another_store_and_restocked(demo):
    ret = Return.objects.get()

    assert ret.location != ret.order.store
    assert ret.lines.get().restocked
    assert StockMovement.objects.filter(kind="return", reference=f"return:{ret.public_id}").exists()


def test_the_demo_has_a_guest_cart_and_a_live_cart_holding_pick_up_stock(demo):
    guest = Cart.objects.get(status="active", customer=None)
    live = Cart.objects.get(status="active", customer__email="camille.martin@example.com")

    assert guest.lines.count() == 2
    assert {line.channel for line in live.lines.all()} == {"ios", "web"}
    assert live.pickup_store.code == "PAR-BAS"
    assert Reservation.objects.filter(
        reference=live.hold_reference, kind="cart_hold", status="active"
    ).exists()


def test_camille_has_a_wish_list_and_a_wallet_card_in_the_demo(demo):
    saved = WishListItem.objects.filter(
        wish_list__customer__email="camille.martin@example.com"
    ).values_list("product__code", "channel")
    card = StoredValueCard.objects.get(customer__email="camille.martin@example.com")

    assert set(saved) == {("trail-shoe", "ios"), ("merino-crew", "web")}
    assert card.balance == Decimal("50.00")


def test_the_demo_orders_leave_no_drift_between_stock_and_its_ledger(demo):
    assert drifts_between(0, 10**9) == []


def test_loading_the_demo_again_adds_no_order_cart_stock_movement_or_points(demo):
    first = row_counts()

    load_demo()

    assert row_counts() == first
