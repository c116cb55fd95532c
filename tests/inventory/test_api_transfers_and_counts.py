"""Transfers and cycle counts through the API, for staff tools and warehouse integrations."""

import uuid

import pytest
from rest_framework.test import APIClient

from inventory import services
from inventory.models import CycleCount, StockLevel, StockMovement, Transfer
from tests.inventory.factories import LocationFactory, SkuFactory, UserFactory, stock

pytestmark = pytest.mark.django_db

TRANSFER_PERMISSIONS = [
    "inventory.add_transfer",
    "inventory.change_transfer",
    "inventory.view_transfer",
]


def client_with(*permissions):
    client = APIClient()
    client.force_login(UserFactory(permissions=list(permissions)))
    return client


@pytest.fixture
def manager():
    return client_with(*TRANSFER_PERMISSIONS, "inventory.add_cyclecount")


@pytest.fixture
def shelf():
    """A warehouse with 10 units of a SKU and a store to send them to."""
    sku, warehouse, store = SkuFactory(), LocationFactory(), LocationFactory()
    stock(sku, warehouse, 10)
    return sku, warehouse, store


def on_hand(sku, location) -> int:
    level = StockLevel.objects.filter(sku=sku, location=location).first()
    return level.on_hand if level else 0


def request_transfer(client, source, destination, lines, note=""):
    return client.post(
        "/api/v1/transfers/",
        {
            "source": source.code,
            "destination": destination.code,
            "lines": [{"sku": sku.code, "quantity": quantity} for sku, quantity in lines],
            "note": note,
        },
        format="json",
    )


def transfer_url(transfer, action=""):
    public_id = transfer.public_id if hasattr(transfer, "public_id") else transfer
    return f"/api/v1/transfers/{public_id}/" + (f"{action}/" if action else "")


def ledger_snapshot():
    return (
        StockMovement.objects.count(),
        list(StockLevel.objects.order_by("pk").values_list("pk", "on_hand")),
    )


# --- Transfers -------------------------------------------------------------------------------


def test_requesting_a_transfer_answers_201_with_its_lines(manager, shelf):
    sku, warehouse, store = shelf

    response = request_transfer(manager, warehouse, store, [(sku, 4)], note="Weekend restock")

    assert response.status_code == 201
    body = response.json()
    transfer = Transfer.objects.get()
    assert body["public_id"] == str(transfer.public_id)
    assert (body["status"], body["source"], body["destination"], body["note"]) == (
        "requested",
        warehouse.code,
        store.code,
        "Weekend restock",
    )
    assert body["lines"] == [{"sku": sku.code, "quantity": 4, "received_quantity": None}]


def test_a_transfer_travels_from_shipped_to_received_and_moves_the_stock(manager, shelf):
    sku, warehouse, store = shelf
    public_id = request_transfer(manager, warehouse, store, [(sku, 4)]).json()["public_id"]

    shipped = manager.post(transfer_url(public_id, "ship"))
    received = manager.post(
        transfer_url(public_id, "receive"),
        {"lines": [{"sku": sku.code, "received": 3}]},
        format="json",
    )

    assert (shipped.status_code, shipped.json()["status"]) == (200, "in_transit")
    assert (received.status_code, received.json()["status"]) == (200, "received")
    assert received.json()["lines"][0]["received_quantity"] == 3
    assert (on_hand(sku, warehouse), on_hand(sku, store)) == (6, 3)


def test_receiving_without_a_body_takes_in_everything_shipped(manager, shelf):
    sku, warehouse, store = shelf
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 4})
    services.ship_transfer(transfer=transfer)

    response = manager.post(transfer_url(transfer, "receive"))

    assert response.status_code == 200
    assert on_hand(sku, store) == 4


def test_a_transfer_can_be_read_by_its_public_id(manager, shelf):
    sku, warehouse, store = shelf
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 2})

    response = manager.get(transfer_url(transfer))

    assert response.status_code == 200
    assert response.json()["lines"] == [{"sku": sku.code, "quantity": 2, "received_quantity": None}]


def test_an_unknown_transfer_is_a_404_in_the_error_shape(manager):
    response = manager.get(transfer_url(uuid.uuid4()))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_cancelled_transfer_cannot_be_shipped(manager, shelf):
    sku, warehouse, store = shelf
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 2})
    cancelled = manager.post(transfer_url(transfer, "cancel"))

    response = manager.post(transfer_url(transfer, "ship"))

    assert cancelled.json()["status"] == "cancelled"
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_transition"
    assert error["details"] == {"from": "cancelled", "to": "in_transit"}
    assert on_hand(sku, warehouse) == 10


def test_shipping_more_than_the_source_holds_is_a_409_and_nothing_moves(manager, shelf):
    sku, warehouse, store = shelf
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 11})

    response = manager.post(transfer_url(transfer, "ship"))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_stock"
    transfer.refresh_from_db()
    assert (transfer.status, on_hand(sku, warehouse)) == ("requested", 10)


def test_a_transfer_to_the_same_location_is_a_400_and_creates_nothing(manager, shelf):
    sku, warehouse, _ = shelf

    response = request_transfer(manager, warehouse, warehouse, [(sku, 1)])

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert not Transfer.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": "NO-SUCH-STORE"}, "source"),
        ({"destination": "NO-SUCH-STORE"}, "destination"),
        ({"lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]}, "lines"),
        ({"lines": [{"sku": "<sku>", "quantity": -2}]}, "lines"),
        ({"lines": [{"sku": "<sku>", "quantity": 1}, {"sku": "<sku>", "quantity": 2}]}, "lines"),
        ({"lines": []}, "lines"),
    ],
)
def test_a_transfer_with_bad_input_is_a_400_and_creates_nothing(manager, shelf, change, field):
    sku, warehouse, store = shelf
    body = {
        "source": warehouse.code,
        "destination": store.code,
        "lines": [{"sku": sku.code, "quantity": 1}],
        **change,
    }
    for line in body["lines"]:
        line["sku"] = line["sku"].replace("<sku>", sku.code)

    response = manager.post("/api/v1/transfers/", body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == [field]
    assert not Transfer.objects.exists()


def test_receiving_more_than_was_shipped_is_a_400_and_the_transfer_stays_in_transit(manager, shelf):
    sku, warehouse, store = shelf
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 4})
    services.ship_transfer(transfer=transfer)

    response = manager.post(
        transfer_url(transfer, "receive"),
        {"lines": [{"sku": sku.code, "received": 5}]},
        format="json",
    )

    assert response.status_code == 400
    transfer.refresh_from_db()
    assert (transfer.status, on_hand(sku, store)) == ("in_transit", 0)


def test_transfers_are_refused_to_anonymous_callers_and_users_without_permission(shelf):
    sku, warehouse, store = shelf
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 1})
    reader = client_with("inventory.view_transfer")

    anonymous = request_transfer(APIClient(), warehouse, store, [(sku, 1)])
    cannot_add = request_transfer(reader, warehouse, store, [(sku, 1)])
    cannot_ship = reader.post(transfer_url(transfer, "ship"))
    cannot_read = client_with("inventory.add_transfer").get(transfer_url(transfer))

    assert anonymous.status_code == 401
    assert [r.status_code for r in (cannot_add, cannot_ship, cannot_read)] == [403, 403, 403]
    assert cannot_ship.json()["error"]["code"] == "permission_denied"
    assert Transfer.objects.get().status == "requested"


# --- Cycle counts ----------------------------------------------------------------------------


def count(client, location, lines, note=""):
    return client.post(
        "/api/v1/cycle-counts/",
        {
            "location": location.code if hasattr(location, "code") else location,
            "lines": [{"sku": getattr(sku, "code", sku), "counted": n} for sku, n in lines],
            "note": note,
        },
        format="json",
    )


def test_a_cycle_count_corrects_on_hand_and_answers_with_each_difference(manager):
    store, short, exact = LocationFactory(), SkuFactory(), SkuFactory()
    stock(short, store, 10)
    stock(exact, store, 4)

    response = count(manager, store, [(short, 7), (exact, 4)], note="Aisle 3")

    assert response.status_code == 201
    body = response.json()
    cycle_count = CycleCount.objects.get()
    assert (body["public_id"], body["location"], body["note"], body["source"]) == (
        str(cycle_count.public_id),
        store.code,
        "Aisle 3",
        "api",
    )
    assert body["lines"] == [
        {"sku": short.code, "expected": 10, "counted": 7, "difference": -3},
        {"sku": exact.code, "expected": 4, "counted": 4, "difference": 0},
    ]
    assert (on_hand(short, store), on_hand(exact, store)) == (7, 4)


def test_a_count_for_an_inactive_sku_is_a_400_and_changes_nothing(manager):
    store, active, retired = LocationFactory(), SkuFactory(), SkuFactory(is_active=False)
    stock(active, store, 5)
    before = ledger_snapshot()

    response = count(manager, store, [(active, 1), (retired, 0)])

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"] == {"inactive_skus": [retired.code]}
    assert ledger_snapshot() == before
    assert not CycleCount.objects.exists()


@pytest.mark.parametrize(
    ("location", "lines", "field"),
    [
        ("NO-SUCH-STORE", [("<sku>", 1)], "location"),
        ("<store>", [("NO-SUCH-SKU", 1)], "lines"),
        ("<store>", [("<sku>", -1)], "lines"),
        ("<store>", [], "lines"),
    ],
)
def test_a_count_with_bad_input_is_a_400_and_changes_nothing(manager, location, lines, field):
    store, sku = LocationFactory(), SkuFactory()
    stock(sku, store, 5)
    before = ledger_snapshot()
    location = store if location == "<store>" else location
    lines = [(sku if code == "<sku>" else code, counted) for code, counted in lines]

    response = count(manager, location, lines)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == [field]
    assert ledger_snapshot() == before


def test_counts_are_refused_to_anonymous_callers_and_users_without_permission():
    store, sku = LocationFactory(), SkuFactory()

    anonymous = count(APIClient(), store, [(sku, 1)])
    unprivileged = count(client_with("inventory.view_cyclecount"), store, [(sku, 1)])

    assert (anonymous.status_code, unprivileged.status_code) == (401, 403)
    assert not CycleCount.objects.exists()


def test_a_malformed_transfer_id_is_a_404_in_the_error_shape(manager):
    response = manager.get(transfer_url("not-a-uuid"))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_session_write_without_its_csrf_token_is_refused(shelf):
    sku, warehouse, store = shelf
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(UserFactory(permissions=TRANSFER_PERMISSIONS))

    response = request_transfer(browser, warehouse, store, [(sku, 1)])

    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
    assert not Transfer.objects.exists()


def test_a_transfer_request_retried_with_the_same_idempotency_key_is_made_once(manager, shelf):
    sku, warehouse, store = shelf
    body = {
        "source": warehouse.code,
        "destination": store.code,
        "lines": [{"sku": sku.code, "quantity": 2}],
    }

    first = manager.post("/api/v1/transfers/", body, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    retry = manager.post("/api/v1/transfers/", body, format="json", HTTP_IDEMPOTENCY_KEY="t-1")

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert Transfer.objects.count() == 1
