"""A warehouse system must not report an order's shipment as a sale movement: Omni takes the
order's stock off itself when the shipment is confirmed, so a sale naming the order would take
it twice. The stock sync refuses such a row, telling the system what to send instead; inventory
decides it from its own reservations (issue 11)."""

import pytest
from rest_framework.test import APIClient

from inventory import services
from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services import StockLine
from tests.inventory.factories import LocationFactory, SkuFactory, UserFactory, stock

pytestmark = pytest.mark.django_db

URL = "/api/v1/stock/movements/"


@pytest.fixture
def wms():
    client = APIClient()
    client.force_login(UserFactory(permissions=["inventory.add_stockmovement"]))
    return client


@pytest.fixture
def shelf():
    sku, warehouse = SkuFactory(code="RAIN-JACKET-M"), LocationFactory(code="ORL-DC")
    stock(sku, warehouse, 10)
    return sku, warehouse


def reserve_for(shelf, reference: str, quantity: int = 2) -> None:
    sku, warehouse = shelf
    services.reserve(
        lines=[StockLine(sku.pk, warehouse.pk, quantity)],
        kind=Reservation.Kind.ORDER,
        reference=reference,
    )


def sale(shelf, reference: str, key: str = "wms:1", kind="sale", quantity=-2) -> dict:
    sku, warehouse = shelf
    return {
        "idempotency_key": key,
        "sku": sku.code,
        "location": warehouse.code,
        "kind": kind,
        "quantity": quantity,
        "reference": reference,
    }


def sync(client, *rows):
    return client.post(URL, {"source": "wms-orleans", "movements": list(rows)}, format="json")


def on_hand(shelf) -> int:
    sku, warehouse = shelf
    return StockLevel.objects.get(sku=sku, location=warehouse).on_hand


@pytest.mark.parametrize(
    "reference",
    ["W000123", " W000123 ", "order:W000123", "order:W000123:ship:7", "ORDER:W000123"],
)
def test_a_sale_naming_an_orders_shipment_is_refused_with_what_to_send_instead(
    wms, shelf, reference
):
    reserve_for(shelf, "order:W000123:ship:7")
    movements_before = StockMovement.objects.count()

    response = sync(wms, sale(shelf, "till:1", key="ok"), sale(shelf, reference, key="double"))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]["movements"]) == ["1"]
    (message,) = error["details"]["movements"]["1"]["reference"]
    assert "W000123" in message
    assert "ship confirmation" in message
    assert "/api/v1/fulfilment/" in message
    assert StockMovement.objects.count() == movements_before
    assert on_hand(shelf) == 10


def test_a_sale_naming_a_pick_up_orders_allocation_is_refused(wms, shelf):
    reserve_for(shelf, "order:P000042")

    response = sync(wms, sale(shelf, "P000042"))

    assert response.status_code == 400
    assert "P000042" in response.json()["error"]["details"]["movements"]["0"]["reference"][0]


def test_a_sale_naming_an_order_whose_stock_already_left_is_refused_too(wms, shelf):
    sku, warehouse = shelf
    reserve_for(shelf, "order:W000123:ship:7")
    services.consume_reserved(
        reference="order:W000123:ship:7", lines=[StockLine(sku.pk, warehouse.pk, 2)]
    )

    response = sync(wms, sale(shelf, "W000123"))

    assert response.status_code == 400
    assert on_hand(shelf) == 8  # taken once, by the ship confirmation


def test_a_sale_naming_an_order_whose_stock_was_all_released_is_recorded(wms, shelf):
    reserve_for(shelf, "order:W000123:ship:7")
    services.release_reservations(reference="order:W000123:ship:7")

    response = sync(wms, sale(shelf, "W000123"))

    assert response.status_code == 201
    assert on_hand(shelf) == 8


@pytest.mark.parametrize("reference", ["W0001", "W0001234", "order:W00012", "receipt:991", ""])
def test_sales_naming_no_order_are_recorded_as_before(wms, shelf, reference):
    reserve_for(shelf, "order:W000123:ship:7")

    response = sync(wms, sale(shelf, reference))

    assert response.status_code == 201
    assert on_hand(shelf) == 8


def test_other_kinds_of_movement_may_name_an_order(wms, shelf):
    reserve_for(shelf, "order:W000123:ship:7")

    response = sync(wms, sale(shelf, "W000123", kind="damage", quantity=-1))

    assert response.status_code == 201


def test_a_cart_hold_is_not_an_order(wms, shelf):
    sku, warehouse = shelf
    services.reserve(
        lines=[StockLine(sku.pk, warehouse.pk, 1)],
        kind=Reservation.Kind.CART_HOLD,
        reference="order:W000999",
        expires_at="2999-01-01T00:00:00Z",
    )

    response = sync(wms, sale(shelf, "W000999"))

    assert response.status_code == 201
