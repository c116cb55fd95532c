"""Delivery fulfilment rules: pick, pack, ship per parcel; short lines reallocated or cancelled
and refunded; shipping from another location; delivered per parcel; never stock taken twice.
The stock ledger must agree after each (``drifts_between``)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from customers.models import Notification
from inventory.ledger_check import drifts_between
from inventory.models import Reservation, StockLevel, StockMovement
from loyalty import services as loyalty
from loyalty.models import Account
from omni.core.errors import AlreadyShipped, InsufficientStock, InvalidRequest
from orders import services
from orders.models import Order, Parcel, Payment, Shipment, ShipmentLine
from orders.services import Tracking
from tests.inventory.factories import stock

pytestmark = pytest.mark.django_db

PARIS = services.Address("Camille Martin", "1 rue de Rivoli", "Paris", "75001", "FR", 48.86, 2.35)
COLISSIMO = "https://www.laposte.fr/outils/suivre-vos-envois?code="


@pytest.fixture
def clerk(db):
    return User.objects.create_user("clerk", is_staff=True)


def delivery(customer, *lines, key="k", redeem_points=0) -> Order:
    cart = services.cart_of(customer=customer)
    for sku, quantity in lines:
        services.set_line(cart=cart, sku_code=sku, quantity=quantity, channel="web")
    return services.checkout(
        cart=cart,
        fulfilment="delivery",
        channel="web",
        idempotency_key=key,
        address=PARIS,
        redeem_points=redeem_points,
    ).order


def tracking(number: str) -> Tracking:
    return Tracking("Colissimo", number, COLISSIMO + number)


def level(sku, location) -> StockLevel:
    return StockLevel.objects.get(sku=sku, location=location)


def line_of(shipment: Shipment, sku_code: str) -> ShipmentLine:
    return shipment.lines.get(order_line__sku__code=sku_code, status__in=["open", "picked"])


def ledger_agrees() -> bool:
    return drifts_between(0, 10**9) == []


def with_points(customer, points: int) -> None:
    """Points to spend, given by hand (earned points would also move the customer's tier)."""
    loyalty.adjust_points(account=loyalty.enrol(customer=customer), points=points, reason="Welcome")


def ships_from(location) -> None:
    location.ship_from_enabled = True
    location.save()


# --- From the allocated location ---------------------------------------------------------------


def test_a_shipment_is_picked_packed_into_two_parcels_and_shipped_parcel_by_parcel(
    shop, camille, clerk
):
    order = delivery(camille, ("RAIN-JACKET-M", 2))
    shipment = order.shipments.get()
    assert shipment.location == shop.warehouse

    services.pick(shipment=shipment, actor=clerk)
    line = line_of(shipment, "RAIN-JACKET-M")
    first = services.pack(shipment=shipment, contents={line.pk: 1}, actor=clerk)
    second = services.pack(shipment=shipment, actor=clerk)  # the rest
    shipment.refresh_from_db()
    assert shipment.status == "packed"

    services.ship_parcel(parcel=first, tracking=tracking("6A001"), actor=clerk)
    order.refresh_from_db()
    assert order.status == "partly_shipped"
    assert (
        level(shop.jacket, shop.warehouse).on_hand,
        level(shop.jacket, shop.warehouse).reserved,
    ) == (19, 1)
    assert order.payments.get().status == "captured"  # the first parcel that leaves

    services.ship_parcel(parcel=second, tracking=tracking("6A002"), actor=clerk)
    order.refresh_from_db()
    shipment.refresh_from_db()
    assert (order.status, shipment.status) == ("shipped", "shipped")
    warehouse = level(shop.jacket, shop.warehouse)
    assert (warehouse.on_hand, warehouse.reserved) == (18, 0)
    assert list(StockMovement.objects.filter(kind="sale").values_list("quantity", flat=True)) == [
        -1,
        -1,
    ]
    assert ledger_agrees()
    sent = Notification.objects.filter(topic="orders.parcel_shipped").order_by("pk")
    assert [n.context["tracking_number"] for n in sent] == ["6A001", "6A002"]
    assert COLISSIMO + "6A002" in sent.last().body


def test_the_order_is_delivered_when_its_last_parcel_is_and_then_earns_points(shop, camille, clerk):
    ships_from(shop.bastille)  # the beanies ship from there, the jacket from the warehouse
    order = delivery(camille, ("RAIN-JACKET-M", 1), ("WOOL-BEANIE", 1))
    shipments = list(order.shipments.all())
    parcels = [
        services.ship(shipment=s, tracking=tracking(f"6A1{n}"), actor=clerk)
        for n, s in enumerate(shipments)
    ]
    for parcel in parcels[:-1]:
        services.mark_parcel_delivered(parcel=parcel)
        assert Order.objects.get().status == "shipped"
    assert not Account.objects.filter(customer=camille, pending__gt=0).exists()

    services.mark_parcel_delivered(parcel=parcels[-1])
    services.mark_parcel_delivered(parcel=parcels[-1])  # told twice: nothing more

    assert Order.objects.get().status == "delivered"
    assert Account.objects.get(customer=camille).pending == 108  # 89 + 19


# --- Never taken twice -------------------------------------------------------------------------


def test_a_second_report_of_the_same_parcel_is_refused_and_takes_nothing(shop, camille, clerk):
    order = delivery(camille, ("RAIN-JACKET-M", 2))
    shipment = order.shipments.get()
    parcel = services.ship(shipment=shipment, tracking=tracking("6A200"), actor=clerk)

    with pytest.raises(AlreadyShipped):
        services.ship_parcel(parcel=parcel, tracking=tracking("6A200"))
    with pytest.raises(AlreadyShipped):
        services.ship(shipment=shipment, tracking=tracking("6A201"))

    assert StockMovement.objects.filter(kind="sale").count() == 1
    assert level(shop.jacket, shop.warehouse).on_hand == 18
    assert ledger_agrees()


def test_a_tracking_number_already_on_another_parcel_is_refused(shop, camille, clerk):
    first = delivery(camille, ("RAIN-JACKET-M", 1), key="a")
    services.ship(shipment=first.shipments.get(), tracking=tracking("6A300"))
    second = delivery(camille, ("RAIN-JACKET-M", 1), key="b")

    with pytest.raises(AlreadyShipped):
        services.ship(shipment=second.shipments.get(), tracking=tracking("6A300"))

    assert Order.objects.get(pk=second.pk).status == "allocated"
    assert level(shop.jacket, shop.warehouse).reserved == 1


def test_shipping_needs_a_carrier_a_number_and_a_web_link(shop, camille):
    shipment = delivery(camille, ("RAIN-JACKET-M", 1)).shipments.get()

    for bad in [
        Tracking("", "6A1"),
        Tracking("Colissimo", " "),
        Tracking("C", "1", "javascript:x"),
    ]:
        with pytest.raises(InvalidRequest):
            services.ship(shipment=shipment, tracking=bad)

    assert not Parcel.objects.exists()
    assert level(shop.jacket, shop.warehouse).reserved == 1


def test_packing_more_than_was_picked_or_an_unpicked_line_is_refused(shop, camille):
    shipment = delivery(camille, ("RAIN-JACKET-M", 2)).shipments.get()
    line = line_of(shipment, "RAIN-JACKET-M")

    with pytest.raises(InvalidRequest):
        services.pack(shipment=shipment, contents={line.pk: 1})  # not picked yet
    services.pick(shipment=shipment)
    with pytest.raises(InvalidRequest):
        services.pack(shipment=shipment, contents={line.pk: 3})

    assert not Parcel.objects.exists()


# --- Short at the allocated location -----------------------------------------------------------


def test_a_line_short_at_its_location_moves_whole_to_another_that_can_cover_it(
    shop, camille, clerk
):
    order = delivery(camille, ("RAIN-JACKET-M", 2))
    shipment = order.shipments.get()
    assert shipment.location == shop.warehouse
    ships_from(shop.bastille)
    stock(shop.jacket, shop.bastille, 5)

    moved = services.report_short(
        shipment=shipment,
        line_id=line_of(shipment, "RAIN-JACKET-M").pk,
        actor=clerk,
        note="Not on the shelf",
    )

    assert moved is not None
    assert moved.shipment.location == shop.bastille
    assert (moved.quantity, moved.status) == (2, "open")
    assert level(shop.jacket, shop.warehouse).reserved == 0
    assert level(shop.jacket, shop.bastille).reserved == 2
    shipment.refresh_from_db()
    assert shipment.status == "cancelled"  # nothing left to send from the warehouse
    assert Order.objects.get().status == "allocated"

    # The location that took it over ships it; the stock leaves there only.
    services.ship(shipment=moved.shipment, tracking=tracking("6A400"), actor=clerk)
    assert level(shop.jacket, shop.bastille).on_hand == 3
    assert level(shop.jacket, shop.warehouse).on_hand == 20
    assert Order.objects.get().status == "shipped"
    assert ledger_agrees()


def test_a_line_no_location_can_cover_is_cancelled_and_its_share_refunded(shop, camille, clerk):
    stock(shop.beanie, shop.warehouse, 10)
    with_points(camille, 500)
    order = delivery(camille, ("RAIN-JACKET-M", 1), ("WOOL-BEANIE", 2), redeem_points=300)
    # 89 + 38 = 127, less 3.00 of points: the jacket carries 2.10 of it, the beanies 0.90.
    jacket = order.lines.get(sku__code="RAIN-JACKET-M")
    assert (order.total, jacket.discount) == (Decimal("124.00"), Decimal("2.10"))
    jacket_shipment = order.shipments.get(lines__order_line=jacket)
    assert jacket_shipment.location == shop.warehouse  # the only ship-from location with jackets

    moved = services.report_short(
        shipment=jacket_shipment, line_id=line_of(jacket_shipment, "RAIN-JACKET-M").pk
    )

    assert moved is None
    jacket.refresh_from_db()
    assert (jacket.cancelled_quantity, jacket.cancelled_refund) == (1, Decimal("86.90"))
    payment = Payment.objects.get()
    assert (payment.status, payment.released) == ("authorized", Decimal("86.90"))
    account = Account.objects.get(customer=camille)
    assert account.available == 500 - 300 + 210  # the jacket's share of the points
    told = Notification.objects.get(topic="orders.line_cancelled")
    assert "86.90 EUR and 210 points" in told.body
    assert level(shop.jacket, shop.warehouse).reserved == 0

    # The beanies still ship; only what is kept is captured and earns points.
    for shipment in Order.objects.get().shipments.exclude(status="cancelled"):
        services.ship(shipment=shipment, tracking=tracking(f"6A5{shipment.pk}"), actor=clerk)
    payment.refresh_from_db()
    assert payment.status == "captured"
    services.mark_delivered(order=order, actor=clerk)
    assert Order.objects.get().status == "delivered"
    account.refresh_from_db()
    assert account.pending == 37  # 1 point a euro of the 38.00 - 0.90 paid for the beanies
    assert ledger_agrees()


def test_when_every_line_is_cancelled_the_order_is_and_everything_comes_back(shop, camille):
    with_points(camille, 500)
    order = delivery(camille, ("RAIN-JACKET-M", 1), redeem_points=100)
    shipment = order.shipments.get()

    services.report_short(shipment=shipment, line_id=line_of(shipment, "RAIN-JACKET-M").pk)

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert Payment.objects.get().status == "voided"
    assert Account.objects.get(customer=camille).available == 500
    assert not Reservation.objects.filter(status="active").exists()


def test_a_location_that_reported_a_line_short_is_never_given_it_back(shop, camille):
    order = delivery(camille, ("RAIN-JACKET-M", 2))
    ships_from(shop.bastille)
    stock(shop.jacket, shop.bastille, 5)
    first = order.shipments.get()
    moved = services.report_short(shipment=first, line_id=line_of(first, "RAIN-JACKET-M").pk)

    again = services.report_short(shipment=moved.shipment, line_id=moved.pk)

    assert again is None  # the warehouse said it had none: the line is cancelled
    assert Order.objects.get().status == "cancelled"


# --- Shipped from another location -------------------------------------------------------------


def test_a_line_shipped_from_another_store_releases_the_allocation_and_takes_only_there(
    shop, camille, clerk
):
    order = delivery(camille, ("RAIN-JACKET-M", 2))
    shipment = order.shipments.get()

    parcel = services.ship(
        shipment=shipment, tracking=tracking("6A600"), location=shop.rivoli, actor=clerk
    )

    assert parcel.shipment.location == shop.rivoli
    rivoli, warehouse = level(shop.jacket, shop.rivoli), level(shop.jacket, shop.warehouse)
    assert (rivoli.on_hand, rivoli.reserved) == (1, 0)
    assert (warehouse.on_hand, warehouse.reserved) == (20, 0)
    assert Order.objects.get().status == "shipped"
    assert ledger_agrees()


def test_shipping_from_a_store_that_is_short_changes_nothing(shop, camille, clerk):
    order = delivery(camille, ("RAIN-JACKET-M", 2))
    shipment = order.shipments.get()

    with pytest.raises(InsufficientStock):
        services.ship(
            shipment=shipment, tracking=tracking("6A700"), location=shop.bastille, actor=clerk
        )

    assert level(shop.jacket, shop.warehouse).reserved == 2
    assert not Shipment.objects.filter(location=shop.bastille).exists()
    assert line_of(shipment, "RAIN-JACKET-M").status == "open"
    assert not Parcel.objects.exists()


# --- Cancelling ----------------------------------------------------------------------------------


def test_a_customer_cancels_a_delivery_until_a_parcel_ships_then_it_is_a_return(shop, camille):
    kept = delivery(camille, ("RAIN-JACKET-M", 1), key="a")
    services.pick(shipment=kept.shipments.get())
    services.cancel_order(order=kept, by_customer=camille)
    assert Order.objects.get(pk=kept.pk).status == "cancelled"
    assert level(shop.jacket, shop.warehouse).reserved == 0

    stock(shop.beanie, shop.warehouse, 10)
    sent = delivery(camille, ("RAIN-JACKET-M", 1), ("WOOL-BEANIE", 1), key="b")
    services.ship(shipment=sent.shipments.first(), tracking=tracking("6A800"))
    with pytest.raises(InvalidRequest, match="has shipped: return it"):
        services.cancel_order(order=sent, by_customer=camille)


def test_cancelling_an_order_already_cancelled_says_so(shop, camille):
    order = delivery(camille, ("RAIN-JACKET-M", 1))
    services.cancel_order(order=order, by_customer=camille)

    with pytest.raises(InvalidRequest, match="already cancelled"):
        services.cancel_order(order=order, by_customer=camille)


# --- Carrier events ------------------------------------------------------------------------------


def test_a_carrier_delivered_event_delivers_the_parcel_once(shop, camille):
    order = delivery(camille, ("RAIN-JACKET-M", 1))
    services.ship(shipment=order.shipments.get(), tracking=tracking("6A900"))
    when = timezone.now()

    event, created = services.record_carrier_event(
        carrier="colissimo",
        event_id="e1",
        tracking_number="6A900",
        kind="delivered",
        occurred_at=when,
    )
    again, created_again = services.record_carrier_event(
        carrier="colissimo",
        event_id="e1",
        tracking_number="6A900",
        kind="delivered",
        occurred_at=when,
    )

    assert (created, created_again, again.pk) == (True, False, event.pk)
    assert Parcel.objects.get().status == "delivered"
    assert Order.objects.get().status == "delivered"
    assert Account.objects.get(customer=camille).pending == 89
