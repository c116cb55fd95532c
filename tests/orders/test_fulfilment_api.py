"""The fulfilment API a warehouse system (or a store's tool) works its delivery queue with:
the shipments allocated to a location, then pick, pack, ship and short reports, each through
the real HTTP API with an integration token or a staff session (issue 11)."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from inventory.integrations import issue_integration_token
from inventory.ledger_check import drifts_between
from inventory.models import Reservation, StockLevel, StockMovement
from omni.core.models import IdempotencyRecord
from orders import services
from orders.models import Order, Parcel, Shipment, ShipmentLine
from tests.inventory.factories import LocationFactory, UserFactory, stock

pytestmark = pytest.mark.django_db

WMS_PERMISSIONS = ["orders.view_shipment", "orders.change_shipment"]
QUEUE = "/api/v1/fulfilment/shipments"


# --- Arrange ------------------------------------------------------------------------------------


@pytest.fixture
def shop(shop):
    """The shared shop, with beanies at the warehouse too, so an order of both ships from it."""
    stock(shop.beanie, shop.warehouse, 10)
    return shop


def delivery_order(customer, lines=(("RAIN-JACKET-M", 2),), key="k") -> Order:
    cart = services.cart_of(customer=customer)
    for sku, quantity in lines:
        services.set_line(cart=cart, sku_code=sku, quantity=quantity, channel="web")
    return services.checkout(
        cart=cart,
        fulfilment="delivery",
        channel="web",
        idempotency_key=key,
        address=services.Address("C. Martin", "1 rue de Rivoli", "Paris", "75001", "FR"),
    ).order


@pytest.fixture
def order(shop, camille) -> Order:
    """Two jackets and a beanie for Camille, allocated to the warehouse."""
    return delivery_order(camille, [("RAIN-JACKET-M", 2), ("WOOL-BEANIE", 1)])


def shipment_of(order: Order) -> Shipment:
    return order.shipments.get()


def line_of(shipment: Shipment, sku: str) -> ShipmentLine:
    return shipment.lines.get(order_line__sku__code=sku)


def token_client(*locations, permissions=WMS_PERMISSIONS) -> APIClient:
    user = UserFactory(permissions=permissions)
    _, raw = issue_integration_token(user=user, name="WMS Orléans", locations=locations)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def staff_client(*permissions) -> APIClient:
    client = APIClient()
    client.force_login(UserFactory(permissions=list(permissions)))
    return client


@pytest.fixture
def wms(shop) -> APIClient:
    """The warehouse system: a token limited to the warehouse, allowed to read and work
    shipments (not to mark them delivered)."""
    return token_client(shop.warehouse)


def url(shipment, action="") -> str:
    return f"{QUEUE}/{shipment.public_id}" + (f"/{action}" if action else "")


def parcel_url(parcel, action) -> str:
    return f"/api/v1/fulfilment/parcels/{parcel.public_id}/{action}"


def tracking(number="6A123", **extra) -> dict:
    return {"carrier": "Colissimo", "tracking_number": number, **extra}


def level(sku, location) -> tuple[int, int]:
    found = StockLevel.objects.get(sku=sku, location=location)
    return found.on_hand, found.reserved


def sales_of(order: Order) -> list[tuple[str, int]]:
    return list(
        StockMovement.objects.filter(kind="sale", reference__startswith=f"order:{order.number}:")
        .order_by("pk")
        .values_list("level__location__code", "quantity")
    )


def assert_ledger_agrees() -> None:
    """Every level equals its ledger and reserved its active reservations (the command an
    operator runs, and the check under it)."""
    call_command("verify_stock_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert drifts_between(0, 10**12) == []


def error_code(response) -> str:
    return response.json()["error"]["code"]


# --- The queue ----------------------------------------------------------------------------------


def test_the_queue_lists_what_is_allocated_to_the_location_with_address_lines_and_parcels(
    shop, order, wms
):
    shipment = shipment_of(order)
    jacket = line_of(shipment, "RAIN-JACKET-M")

    response = wms.get(QUEUE, {"location": "ORL-DC"})

    assert response.status_code == 200
    (found,) = response.json()["results"]
    assert found["id"] == str(shipment.public_id)
    assert found["order"] == {
        "number": order.number,
        "status": "allocated",
        "placed_at": found["order"]["placed_at"],
    }
    assert found["location"] == "ORL-DC"
    assert found["status"] == "allocated"
    assert (found["late"], found["short"]) == (False, False)
    assert found["stock_reference"] == f"order:{order.number}:ship:{shipment.pk}"
    assert found["ship_to"] == {
        "name": "C. Martin",
        "line1": "1 rue de Rivoli",
        "city": "Paris",
        "postcode": "75001",
        "country": "FR",
    }
    assert found["lines"][0] == {
        "id": str(jacket.public_id),
        "sku": "RAIN-JACKET-M",
        "name": shop.jacket.product.name,
        "quantity": 2,
        "status": "open",
        "packed": 0,
        "short_reported_at": None,
        "note": "",
    }
    assert [line["sku"] for line in found["lines"]] == ["RAIN-JACKET-M", "WOOL-BEANIE"]
    assert found["parcels"] == []


def test_the_queue_shows_parcels_and_leaves_out_what_has_shipped(shop, camille, wms):
    packed_order = delivery_order(camille, key="k1")
    shipment = shipment_of(packed_order)
    services.pick(shipment=shipment)
    parcel = services.pack(shipment=shipment)
    shipped_order = delivery_order(camille, key="k2")
    services.ship(shipment=shipment_of(shipped_order), tracking=services.Tracking("DHL", "D1"))

    response = wms.get(QUEUE, {"location": "ORL-DC"})

    (found,) = response.json()["results"]
    assert found["order"]["number"] == packed_order.number
    assert found["status"] == "packed"
    assert found["lines"][0]["packed"] == 2
    assert found["parcels"] == [
        {
            "id": str(parcel.public_id),
            "status": "packed",
            "carrier": "",
            "tracking_number": "",
            "tracking_url": "",
            "packed_at": found["parcels"][0]["packed_at"],
            "shipped_at": None,
            "delivered_at": None,
            "lines": [{"line": found["lines"][0]["id"], "sku": "RAIN-JACKET-M", "quantity": 2}],
        }
    ]


def test_the_queue_filters_by_status_late_and_short(shop, camille, wms, time_machine):
    time_machine.move_to("2026-03-02 08:00:00+00:00", tick=False)
    old = delivery_order(camille, key="old")
    time_machine.move_to("2026-03-03 10:00:00+00:00", tick=False)
    picked = delivery_order(camille, key="picked")
    services.pick(shipment=shipment_of(picked))

    def numbers(**query):
        response = wms.get(QUEUE, {"location": "ORL-DC", **query})
        assert response.status_code == 200, response.json()
        return [found["order"]["number"] for found in response.json()["results"]]

    assert numbers() == [old.number, picked.number]
    assert numbers(status="picked") == [picked.number]
    assert numbers(status="allocated,picked") == [old.number, picked.number]
    assert numbers(late="true") == [old.number]
    assert numbers(late="false") == [picked.number]
    assert numbers(short="true") == []


def test_a_shipment_with_a_line_reported_short_here_is_flagged_short(shop, camille, wms):
    order = delivery_order(camille, [("RAIN-JACKET-M", 1), ("WOOL-BEANIE", 1)])
    shipment = shipment_of(order)
    services.report_short(shipment=shipment, line_id=line_of(shipment, "WOOL-BEANIE").pk)

    response = wms.get(QUEUE, {"location": "ORL-DC", "short": "true"})

    (found,) = response.json()["results"]
    assert found["short"] is True
    assert [(line["sku"], line["status"]) for line in found["lines"]] == [
        ("RAIN-JACKET-M", "open"),
        ("WOOL-BEANIE", "cancelled"),
    ]


def test_the_queue_is_paginated_oldest_first_with_a_cursor(shop, camille, wms):
    numbers = [delivery_order(camille, key=f"k{n}").number for n in range(3)]

    first = wms.get(QUEUE, {"location": "ORL-DC", "page_size": 2}).json()
    second = wms.get(first["next"]).json()

    assert [found["order"]["number"] for found in first["results"]] == numbers[:2]
    assert [found["order"]["number"] for found in second["results"]] == numbers[2:]
    assert second["next"] is None


@pytest.mark.parametrize("orders", [1, 6])
def test_the_queue_answers_in_a_bounded_number_of_queries(
    shop, camille, wms, orders, django_assert_max_num_queries
):
    for n in range(orders):
        shipment = shipment_of(delivery_order(camille, [("RAIN-JACKET-M", 1)], key=f"k{n}"))
        services.pick(shipment=shipment)
        services.pack(shipment=shipment)

    # The token, its last use, the user's permissions (2), the location and the token's
    # locations; then shipments with orders, lines, parcels, parcel lines. None per shipment.
    with django_assert_max_num_queries(10):
        response = wms.get(QUEUE, {"location": "ORL-DC"})

    assert len(response.json()["results"]) == orders


def test_the_queue_needs_a_known_location(wms):
    missing = wms.get(QUEUE)
    unknown = wms.get(QUEUE, {"location": "NOPE"})
    bad_flag = wms.get(QUEUE, {"location": "ORL-DC", "late": "maybe"})
    bad_status = wms.get(QUEUE, {"location": "ORL-DC", "status": "shipped"})

    for response in (missing, unknown, bad_flag, bad_status):
        assert response.status_code == 400
        assert error_code(response) == "validation_error"
    assert "location" in missing.json()["error"]["details"]
    assert "NOPE" in unknown.json()["error"]["details"]["location"][0]


def test_one_shipment_by_its_id(order, wms):
    shipment = shipment_of(order)

    response = wms.get(url(shipment))

    assert response.status_code == 200
    assert response.json()["id"] == str(shipment.public_id)
    assert response.json()["order"]["number"] == order.number
    unknown = f"{QUEUE}/{uuid.uuid4()}"
    assert wms.get(unknown).status_code == 404
    assert error_code(wms.get(unknown)) == "not_found"


# --- Who may ------------------------------------------------------------------------------------


def test_without_credentials_every_call_is_a_401_with_how_to_authenticate(order):
    anonymous = APIClient()
    shipment = shipment_of(order)

    responses = [
        anonymous.get(QUEUE, {"location": "ORL-DC"}),
        anonymous.get(url(shipment)),
        anonymous.post(url(shipment, "ship"), tracking(), format="json"),
    ]

    for response in responses:
        assert response.status_code == 401
        assert error_code(response) == "not_authenticated"
        assert response["WWW-Authenticate"] == "Token"
    assert Order.objects.get(pk=order.pk).status == "allocated"


def test_a_caller_without_the_orders_permissions_is_refused(order, shop):
    reader = token_client(permissions=["orders.view_shipment"])
    stock_only = staff_client("inventory.add_stockmovement")
    shipment = shipment_of(order)

    assert reader.get(url(shipment)).status_code == 200
    refused = reader.post(url(shipment, "ship"), tracking(), format="json")
    assert refused.status_code == 403
    assert error_code(refused) == "permission_denied"
    assert stock_only.get(QUEUE, {"location": "ORL-DC"}).status_code == 403
    assert sales_of(order) == []


def test_a_token_limited_to_other_locations_acts_on_no_shipment_here(order, shop):
    store_token = token_client(shop.rivoli)
    shipment = shipment_of(order)

    responses = [
        store_token.get(QUEUE, {"location": "ORL-DC"}),
        store_token.get(url(shipment)),
        store_token.post(url(shipment, "pick"), {}, format="json"),
        store_token.post(url(shipment, "ship"), tracking(), format="json"),
    ]

    for response in responses:
        assert response.status_code == 403
        assert "PAR-RIV" in response.json()["error"]["message"]
    assert ShipmentLine.objects.filter(status="open").count() == 2
    assert sales_of(order) == []


def test_a_staff_session_with_the_permissions_works_the_queue(order):
    clerk = staff_client(*WMS_PERMISSIONS)

    response = clerk.post(url(shipment_of(order), "ship"), tracking(), format="json")

    assert response.status_code == 201


# --- Pick, pack, ship ---------------------------------------------------------------------------


def test_picking_some_lines_marks_only_those(order, wms):
    shipment = shipment_of(order)
    jacket = line_of(shipment, "RAIN-JACKET-M")

    response = wms.post(url(shipment, "pick"), {"lines": [str(jacket.public_id)]}, format="json")

    assert response.status_code == 200
    assert [(line["sku"], line["status"]) for line in response.json()["lines"]] == [
        ("RAIN-JACKET-M", "picked"),
        ("WOOL-BEANIE", "open"),
    ]


def test_picking_with_no_body_picks_every_open_line(order, wms):
    shipment = shipment_of(order)

    response = wms.post(url(shipment, "pick"))

    assert response.status_code == 200
    assert response.json()["status"] == "picked"
    assert {line["status"] for line in response.json()["lines"]} == {"picked"}


def test_picking_a_line_of_another_shipment_is_a_404_and_changes_nothing(shop, camille, wms):
    first = shipment_of(delivery_order(camille, key="k1"))
    other = shipment_of(delivery_order(camille, key="k2"))

    response = wms.post(
        url(first, "pick"), {"lines": [str(other.lines.get().public_id)]}, format="json"
    )

    assert response.status_code == 404
    assert set(ShipmentLine.objects.values_list("status", flat=True)) == {"open"}


def test_packing_puts_the_chosen_units_in_a_new_parcel(order, wms):
    shipment = shipment_of(order)
    jacket = line_of(shipment, "RAIN-JACKET-M")
    wms.post(url(shipment, "pick"))

    response = wms.post(
        url(shipment, "pack"),
        {"lines": [{"line": str(jacket.public_id), "quantity": 1}]},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    parcel = Parcel.objects.get()
    assert body["parcel"]["id"] == str(parcel.public_id)
    assert body["parcel"]["status"] == "packed"
    assert body["parcel"]["lines"] == [
        {"line": str(jacket.public_id), "sku": "RAIN-JACKET-M", "quantity": 1}
    ]
    assert body["shipment"]["status"] == "picked"  # a jacket and the beanie still to pack


def test_packing_with_no_body_packs_everything_picked(order, wms):
    shipment = shipment_of(order)
    wms.post(url(shipment, "pick"))

    response = wms.post(url(shipment, "pack"))

    assert response.status_code == 201
    assert sorted(
        (item["sku"], item["quantity"]) for item in response.json()["parcel"]["lines"]
    ) == [("RAIN-JACKET-M", 2), ("WOOL-BEANIE", 1)]
    assert response.json()["shipment"]["status"] == "packed"


def test_packing_more_than_was_picked_is_refused_and_packs_nothing(order, wms):
    shipment = shipment_of(order)
    jacket = line_of(shipment, "RAIN-JACKET-M")
    wms.post(url(shipment, "pick"))

    response = wms.post(
        url(shipment, "pack"),
        {"lines": [{"line": str(jacket.public_id), "quantity": 5}]},
        format="json",
    )

    assert response.status_code == 400
    assert error_code(response) == "invalid_request"
    assert not Parcel.objects.exists()


def test_shipping_a_packed_parcel_takes_its_units_off_stock_once(shop, order, wms):
    shipment = shipment_of(order)
    wms.post(url(shipment, "pick"))
    parcel = Parcel.objects.get(public_id=wms.post(url(shipment, "pack")).json()["parcel"]["id"])

    response = wms.post(
        parcel_url(parcel, "ship"),
        tracking(tracking_url="https://www.laposte.fr/outils/suivre-vos-envois?code=6A123"),
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["parcel"]["status"] == "shipped"
    assert (body["parcel"]["carrier"], body["parcel"]["tracking_number"]) == ("Colissimo", "6A123")
    assert body["parcel"]["tracking_url"].startswith("https://www.laposte.fr/")
    assert body["shipment"]["status"] == "shipped"
    assert body["shipment"]["order"]["status"] == "shipped"
    assert level(shop.jacket, shop.warehouse) == (18, 0)
    assert level(shop.beanie, shop.warehouse) == (9, 0)
    assert_ledger_agrees()

    again = wms.post(parcel_url(parcel, "ship"), tracking(), format="json")

    assert again.status_code == 409
    assert error_code(again) == "already_shipped"
    assert sorted(sales_of(order)) == [("ORL-DC", -2), ("ORL-DC", -1)]
    assert_ledger_agrees()


def test_a_parcel_not_found_is_a_404(wms):
    response = wms.post(
        "/api/v1/fulfilment/parcels/00000000-0000-0000-0000-000000000000/ship",
        tracking(),
        format="json",
    )

    assert response.status_code == 404


def test_shipping_a_whole_shipment_in_one_call(shop, order, wms):
    response = wms.post(url(shipment_of(order), "ship"), tracking(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["parcel"]["status"] == "shipped"
    assert sorted((item["sku"], item["quantity"]) for item in body["parcel"]["lines"]) == [
        ("RAIN-JACKET-M", 2),
        ("WOOL-BEANIE", 1),
    ]
    assert body["shipment"]["status"] == "shipped"
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert level(shop.jacket, shop.warehouse) == (18, 0)
    assert_ledger_agrees()


def test_shipping_some_lines_leaves_the_order_partly_shipped(shop, order, wms):
    shipment = shipment_of(order)
    beanie = line_of(shipment, "WOOL-BEANIE")

    response = wms.post(
        url(shipment, "ship"), {**tracking(), "lines": [str(beanie.public_id)]}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["shipment"]["order"]["status"] == "partly_shipped"
    assert [(line["sku"], line["status"]) for line in response.json()["shipment"]["lines"]] == [
        ("RAIN-JACKET-M", "open"),
        ("WOOL-BEANIE", "shipped"),
    ]
    assert level(shop.jacket, shop.warehouse) == (20, 2)
    assert level(shop.beanie, shop.warehouse) == (9, 0)
    assert_ledger_agrees()


def test_a_retry_with_the_same_idempotency_key_replays_the_first_answer(order, wms):
    shipment = shipment_of(order)
    headers = {"HTTP_IDEMPOTENCY_KEY": "ship-6A123"}
    first = wms.post(url(shipment, "ship"), tracking(), format="json", **headers)

    retry = wms.post(url(shipment, "ship"), tracking(), format="json", **headers)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert len(sales_of(order)) == 2  # one per SKU, once
    assert IdempotencyRecord.objects.filter(key="ship-6A123").count() == 1
    assert_ledger_agrees()


def test_a_retry_without_a_key_is_a_409_already_shipped_and_takes_nothing_again(order, wms):
    shipment = shipment_of(order)
    wms.post(url(shipment, "ship"), tracking(), format="json")
    sales = sales_of(order)

    retry = wms.post(url(shipment, "ship"), tracking(), format="json")

    assert retry.status_code == 409
    assert error_code(retry) == "already_shipped"
    assert sales_of(order) == sales
    assert_ledger_agrees()


def test_a_tracking_number_already_on_another_parcel_is_refused(shop, camille, wms):
    first = shipment_of(delivery_order(camille, key="k1"))
    second = shipment_of(delivery_order(camille, key="k2"))
    wms.post(url(first, "ship"), tracking("6A1"), format="json")

    response = wms.post(url(second, "ship"), tracking("6A1"), format="json")

    assert response.status_code == 409
    assert error_code(response) == "already_shipped"
    assert level(shop.jacket, shop.warehouse) == (18, 2)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"carrier": "Colissimo"}, "tracking_number"),
        ({"tracking_number": "6A1"}, "carrier"),
        ({**tracking(), "tracking_url": "javascript:alert(1)"}, "tracking_url"),
        ({**tracking(), "lines": "all"}, "lines"),
    ],
)
def test_a_ship_call_with_bad_input_is_a_400_naming_the_field(order, wms, body, field):
    response = wms.post(url(shipment_of(order), "ship"), body, format="json")

    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert field in response.json()["error"]["details"]
    assert sales_of(order) == []


def test_shipping_from_another_location_takes_the_units_only_there(shop, order):
    wms = token_client(shop.warehouse, shop.rivoli)
    shipment = shipment_of(order)
    jacket = line_of(shipment, "RAIN-JACKET-M")

    response = wms.post(
        url(shipment, "ship"),
        {**tracking(), "lines": [str(jacket.public_id)], "location": "PAR-RIV"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["shipment"]["location"] == "PAR-RIV"
    assert level(shop.jacket, shop.rivoli) == (1, 0)
    assert level(shop.jacket, shop.warehouse) == (20, 0)  # released there, taken nowhere
    assert level(shop.beanie, shop.warehouse) == (10, 1)  # still to ship from the warehouse
    assert sales_of(order) == [("PAR-RIV", -2)]
    assert_ledger_agrees()


def test_shipping_from_a_location_that_is_short_changes_nothing(shop, camille):
    wms = token_client(shop.warehouse, shop.bastille)
    order = delivery_order(camille)

    response = wms.post(
        url(shipment_of(order), "ship"), {**tracking(), "location": "PAR-BAS"}, format="json"
    )

    assert response.status_code == 409
    assert error_code(response) == "insufficient_stock"
    assert level(shop.jacket, shop.warehouse) == (20, 2)
    assert shipment_of(order).location == shop.warehouse
    assert_ledger_agrees()


def test_a_token_may_ship_from_another_location_only_if_it_may_act_at_both(shop, order, wms):
    response = wms.post(
        url(shipment_of(order), "ship"), {**tracking(), "location": "PAR-RIV"}, format="json"
    )

    assert response.status_code == 403
    assert level(shop.jacket, shop.rivoli) == (3, 0)
    assert level(shop.jacket, shop.warehouse) == (20, 2)


def test_shipping_from_an_unknown_location_is_a_400(order, wms):
    response = wms.post(
        url(shipment_of(order), "ship"), {**tracking(), "location": "NOPE"}, format="json"
    )

    assert response.status_code == 400
    assert "location" in response.json()["error"]["details"]


# --- Short --------------------------------------------------------------------------------------


def test_a_line_reported_short_moves_to_a_location_that_has_it_and_the_answer_says_where(
    shop, order, wms
):
    lyon = LocationFactory(code="LYS-DC", kind="warehouse", pickup_enabled=False)
    stock(shop.jacket, lyon, 5)
    shipment = shipment_of(order)
    jacket = line_of(shipment, "RAIN-JACKET-M")

    response = wms.post(
        url(shipment, f"lines/{jacket.public_id}/short"), {"note": "bin A3 empty"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    moved = ShipmentLine.objects.get(shipment__location=lyon)
    assert body["line"] == str(jacket.public_id)
    assert body["outcome"] == "moved"
    assert body["moved_to"] == {
        "location": "LYS-DC",
        "shipment": str(moved.shipment.public_id),
        "line": str(moved.public_id),
    }
    assert [(line["sku"], line["status"]) for line in body["shipment"]["lines"]] == [
        ("RAIN-JACKET-M", "moved"),
        ("WOOL-BEANIE", "open"),
    ]
    assert body["shipment"]["lines"][0]["note"] == "bin A3 empty"
    assert level(shop.jacket, shop.warehouse) == (20, 0)
    assert level(shop.jacket, lyon) == (5, 2)
    assert_ledger_agrees()


def test_a_line_no_location_can_cover_is_cancelled_and_the_answer_says_so(shop, order, wms):
    shipment = shipment_of(order)
    jacket = line_of(shipment, "RAIN-JACKET-M")

    response = wms.post(url(shipment, f"lines/{jacket.public_id}/short"))

    assert response.status_code == 200
    body = response.json()
    assert (body["outcome"], body["moved_to"]) == ("cancelled", None)
    assert body["shipment"]["lines"][0]["status"] == "cancelled"
    line = order.lines.get(sku=shop.jacket)
    assert (line.cancelled_quantity, line.cancelled_refund) == (2, Decimal("178.00"))
    assert level(shop.jacket, shop.warehouse) == (20, 0)
    assert_ledger_agrees()


def test_a_second_short_report_of_the_same_line_changes_nothing(shop, order, wms):
    shipment = shipment_of(order)
    jacket = line_of(shipment, "RAIN-JACKET-M")
    wms.post(url(shipment, f"lines/{jacket.public_id}/short"))

    again = wms.post(url(shipment, f"lines/{jacket.public_id}/short"))

    assert again.status_code == 400
    assert error_code(again) == "invalid_request"
    assert order.lines.get(sku=shop.jacket).cancelled_quantity == 2


def test_a_short_report_for_a_line_not_on_the_shipment_is_a_404(order, wms):
    response = wms.post(url(shipment_of(order), "lines/999999/short"))

    assert response.status_code == 404


# --- Delivered ----------------------------------------------------------------------------------


def test_staff_mark_a_parcel_delivered_and_the_order_with_its_last_parcel(shop, order):
    shipment = shipment_of(order)
    services.pick(shipment=shipment)
    jacket = line_of(shipment, "RAIN-JACKET-M")
    first = services.pack(shipment=shipment, contents={jacket.pk: 2})
    second = services.pack(shipment=shipment)
    services.ship_parcel(parcel=first, tracking=services.Tracking("Colissimo", "6A1"))
    services.ship_parcel(parcel=second, tracking=services.Tracking("Colissimo", "6A2"))
    clerk = staff_client("orders.change_parcel")

    one = clerk.post(parcel_url(first, "deliver"))
    order.refresh_from_db()
    status_after_one = order.status
    both = clerk.post(parcel_url(second, "deliver"))

    assert one.status_code == 200
    assert one.json()["parcel"]["status"] == "delivered"
    assert status_after_one == "shipped"
    assert both.json()["shipment"]["order"]["status"] == "delivered"
    assert both.json()["shipment"]["status"] == "delivered"


def test_marking_a_parcel_delivered_needs_its_own_permission(shop, order, wms):
    parcel = services.ship(shipment=shipment_of(order), tracking=services.Tracking("DHL", "D1"))

    response = wms.post(parcel_url(parcel, "deliver"))

    assert response.status_code == 403
    assert Parcel.objects.get().status == "shipped"


def test_a_parcel_that_has_not_shipped_cannot_be_delivered(order):
    shipment = shipment_of(order)
    services.pick(shipment=shipment)
    parcel = services.pack(shipment=shipment)

    response = staff_client("orders.change_parcel").post(parcel_url(parcel, "deliver"))

    assert response.status_code == 400
    assert Parcel.objects.get().status == "packed"


# --- Limits and documentation -------------------------------------------------------------------


def test_calls_are_throttled_per_token(settings, order, shop):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "fulfilment.staff": "2/min"}
    busy, other = token_client(shop.warehouse), token_client(shop.warehouse)
    for _ in range(2):
        busy.get(QUEUE, {"location": "ORL-DC"})

    refused = busy.get(QUEUE, {"location": "ORL-DC"})

    assert refused.status_code == 429
    assert error_code(refused) == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert other.get(QUEUE, {"location": "ORL-DC"}).status_code == 200


CALLS = [
    (QUEUE, "get", [400, 401, 403, 429]),
    (QUEUE + "/{shipment_id}", "get", [401, 403, 404, 429]),
    (QUEUE + "/{shipment_id}/pick", "post", [400, 401, 403, 404, 409, 429]),
    (QUEUE + "/{shipment_id}/pack", "post", [400, 401, 403, 404, 409, 429]),
    (QUEUE + "/{shipment_id}/ship", "post", [400, 401, 403, 404, 409, 429]),
    (QUEUE + "/{shipment_id}/lines/{line_id}/short", "post", [400, 401, 403, 404, 409, 429]),
    ("/api/v1/fulfilment/parcels/{parcel_id}/ship", "post", [400, 401, 403, 404, 409, 429]),
    ("/api/v1/fulfilment/parcels/{parcel_id}/deliver", "post", [400, 401, 403, 404, 429]),
]


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize(("path", "method", "statuses"), CALLS)
def test_the_schema_documents_each_call_and_every_error_it_can_answer(
    schema, path, method, statuses
):
    operation = schema["paths"][path][method]

    assert any(status.startswith("2") for status in operation["responses"])
    for status in statuses:
        error = operation["responses"][str(status)]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/Error"}, (path, status)
    if method == "post":
        assert "Idempotency-Key" in [p["name"] for p in operation.get("parameters", [])]


def test_reservations_of_a_shipped_order_are_consumed_not_active(order, wms):
    wms.post(url(shipment_of(order), "ship"), tracking(), format="json")

    assert set(
        Reservation.objects.filter(reference__startswith=f"order:{order.number}:").values_list(
            "status", flat=True
        )
    ) == {"consumed"}


def test_late_is_measured_from_allocation(shop, camille, wms, time_machine, settings):
    settings.FULFILMENT_LATE_HOURS = 2
    time_machine.move_to("2026-03-02 08:00:00+00:00", tick=False)
    order = delivery_order(camille)
    time_machine.shift(timedelta(hours=3))

    response = wms.get(url(shipment_of(order)))

    assert response.json()["late"] is True


# --- Never twice: a ship confirmation, never a sale movement ------------------------------------


@pytest.mark.parametrize("when", ["before shipping", "after shipping"])
def test_a_sale_movement_for_the_orders_shipment_is_refused_by_the_stock_sync(shop, order, when):
    wms = token_client(
        shop.warehouse, permissions=[*WMS_PERMISSIONS, "inventory.add_stockmovement"]
    )
    if when == "after shipping":
        wms.post(url(shipment_of(order), "ship"), tracking(), format="json")
    before = level(shop.jacket, shop.warehouse)

    response = wms.post(
        "/api/v1/stock/movements/",
        {
            "source": "wms-orleans",
            "movements": [
                {
                    "idempotency_key": f"wms:{order.number}:jacket",
                    "sku": "RAIN-JACKET-M",
                    "location": "ORL-DC",
                    "kind": "sale",
                    "quantity": -2,
                    "reference": order.number,
                }
            ],
        },
        format="json",
    )

    assert response.status_code == 400
    (message,) = response.json()["error"]["details"]["movements"]["0"]["reference"]
    assert order.number in message
    assert "ship confirmation" in message
    assert level(shop.jacket, shop.warehouse) == before
    assert_ledger_agrees()
