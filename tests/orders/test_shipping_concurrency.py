"""Delivery fulfilment under concurrent reports, on a real PostgreSQL server."""

import pytest

from inventory.ledger_check import drifts_between
from inventory.models import StockLevel, StockMovement
from omni.core.errors import AlreadyShipped
from orders import services
from orders.models import ShipmentLine
from orders.services import Tracking
from tests.concurrency import run_concurrently
from tests.inventory.factories import LocationFactory, SkuFactory, stock
from tests.loyalty.factories import customer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

ADDRESS = services.Address("C. Martin", "1 rue de Rivoli", "Paris", "75001", "FR", 48.86, 2.35)


def delivery(sku, quantity=1):
    cart = services.cart_of(customer=customer())
    services.set_line(cart=cart, sku_code=sku.code, quantity=quantity, channel="web")
    return services.checkout(
        cart=cart, fulfilment="delivery", channel="web", idempotency_key="k", address=ADDRESS
    ).order


def test_a_parcel_reported_shipped_twice_at_once_leaves_the_stock_once():
    warehouse = LocationFactory(code="ORL-DC", kind="warehouse")
    sku = SkuFactory(code="RAIN-JACKET-M")
    stock(sku, warehouse, 5)
    shipment = delivery(sku, 2).shipments.get()
    services.pick(shipment=shipment)
    parcel = services.pack(shipment=shipment)

    def report(number):  # the clerk's screen and the warehouse system, at the same moment
        return lambda: services.ship_parcel(parcel=parcel, tracking=Tracking("DPD", number))

    outcome = run_concurrently([report("DPD-1"), report("DPD-2")], AlreadyShipped)

    summary = outcome.summary(2)
    assert not outcome.crashed, summary
    assert (len(outcome.granted), len(outcome.refused)) == (1, 1), summary
    assert StockMovement.objects.filter(kind="sale").count() == 1
    level = StockLevel.objects.get(sku=sku, location=warehouse)
    assert (level.on_hand, level.reserved) == (3, 0)
    assert drifts_between(0, 10**9) == []


def test_short_lines_reallocated_at_once_never_oversell_the_location_that_takes_them():
    first = LocationFactory(code="ORL-DC", kind="warehouse")
    sku = SkuFactory(code="RAIN-JACKET-M")
    stock(sku, first, 10)
    shipments = [delivery(sku).shipments.get() for _ in range(6)]
    assert {s.location_id for s in shipments} == {first.pk}
    second = LocationFactory(code="PAR-BAS")
    stock(sku, second, 2)  # room for two of the six lines

    def short(shipment):
        line = shipment.lines.get()
        return lambda: services.report_short(shipment=shipment, line_id=line.pk)

    outcome = run_concurrently([short(s) for s in shipments], AlreadyShipped)

    summary = outcome.summary(6)
    assert not outcome.crashed, summary
    moved = ShipmentLine.objects.filter(shipment__location=second)
    assert moved.count() == 2
    assert ShipmentLine.objects.filter(status="cancelled").count() == 4
    level = StockLevel.objects.get(sku=sku, location=second)
    assert (level.on_hand, level.reserved) == (2, 2)
    assert StockLevel.objects.get(sku=sku, location=first).reserved == 0
    assert drifts_between(0, 10**9) == []
