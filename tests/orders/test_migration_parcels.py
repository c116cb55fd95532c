"""The migration that turned a shipment's {SKU: units} and single tracking number into lines and
a parcel keeps what existing databases hold."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("orders", "0003_order_pickup_code_failures")]
AFTER = [("orders", "0004_parcels_and_shipment_lines")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_existing_shipments_become_lines_and_shipped_ones_a_parcel():
    old = migrate(BEFORE)
    location = old.get_model("inventory", "Location").objects.create(code="ORL-DC", name="DC")
    product = old.get_model("inventory", "Product").objects.create(code="jacket", name="Jacket")
    sku = old.get_model("inventory", "Sku").objects.create(
        product=product, code="RAIN-JACKET-M", price=Decimal("89.00")
    )
    Order = old.get_model("orders", "Order")
    order = Order.objects.create(
        number="OM-OLD0001", channel="web", fulfilment="delivery", status="shipped"
    )
    old.get_model("orders", "OrderLine").objects.create(
        order=order, sku=sku, quantity=2, unit_price=Decimal("89.00"), line_total=Decimal("178")
    )
    Shipment = old.get_model("orders", "Shipment")
    shipped = Shipment.objects.create(
        order=order,
        location=location,
        status="shipped",
        lines={"RAIN-JACKET-M": 2},
        carrier="Colissimo",
        tracking_number="6A0001",
    )
    waiting = Shipment.objects.create(
        order=order, location=location, status="allocated", lines={"RAIN-JACKET-M": 1}
    )

    new = migrate(AFTER)

    ShipmentLine = new.get_model("orders", "ShipmentLine")
    Parcel = new.get_model("orders", "Parcel")
    assert list(
        ShipmentLine.objects.filter(shipment_id=shipped.pk).values_list("quantity", "status")
    ) == [(2, "shipped")]
    assert list(
        ShipmentLine.objects.filter(shipment_id=waiting.pk).values_list("quantity", "status")
    ) == [(1, "open")]
    parcel = Parcel.objects.get()
    assert (parcel.shipment_id, parcel.carrier, parcel.tracking_number, parcel.status) == (
        shipped.pk,
        "Colissimo",
        "6A0001",
        "shipped",
    )
    assert parcel.lines.get().quantity == 2


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """The tests after this one need every migration applied again."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
