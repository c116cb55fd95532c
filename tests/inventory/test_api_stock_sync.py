"""Bulk stock sync from point-of-sale and warehouse systems: validated whole, recorded whole."""

import pytest
from rest_framework.test import APIClient

from inventory.integrations import issue_integration_token
from inventory.models import StockLevel, StockMovement
from inventory.services import MovementSpec
from inventory.sync import sync_movements
from omni.core.errors import Conflict
from tests.concurrency import run_concurrently
from tests.inventory.factories import LocationFactory, SkuFactory, UserFactory, stock

pytestmark = pytest.mark.django_db

URL = "/api/v1/stock/movements/"
SYNC_PERMISSION = "inventory.add_stockmovement"


@pytest.fixture
def pos_client():
    client = APIClient()
    client.force_login(UserFactory(permissions=[SYNC_PERMISSION]))
    return client


def row(sku, location, key, kind="sale", quantity=-1, **extra):
    return {
        "idempotency_key": key,
        "sku": sku.code if hasattr(sku, "code") else sku,
        "location": location.code if hasattr(location, "code") else location,
        "kind": kind,
        "quantity": quantity,
        **extra,
    }


def sync(client, *rows, source="pos-paris"):
    return client.post(URL, {"source": source, "movements": list(rows)}, format="json")


def ledger_snapshot():
    return (
        list(StockMovement.objects.order_by("pk").values_list("pk", flat=True)),
        list(StockLevel.objects.order_by("pk").values_list("pk", "on_hand")),
    )


def test_a_batch_is_recorded_with_a_result_and_the_new_on_hand_per_row(pos_client):
    store, shirt, socks = LocationFactory(), SkuFactory(), SkuFactory()
    stock(shirt, store, 10)

    response = sync(
        pos_client,
        row(shirt, store, "till-4:1", quantity=-2, reference="receipt:991"),
        row(shirt, store, "till-4:2", quantity=-1),
        row(socks, store, "till-4:3", kind="receipt", quantity=6, reason="delivery"),
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["recorded"], body["replayed"]) == (3, 0)
    assert [(r["index"], r["status"], r["on_hand"]) for r in body["movements"]] == [
        (0, "recorded", 7),
        (1, "recorded", 7),
        (2, "recorded", 6),
    ]
    assert body["movements"][2] == {
        "index": 2,
        "idempotency_key": "till-4:3",
        "sku": socks.code,
        "location": store.code,
        "status": "recorded",
        "on_hand": 6,
    }
    sale = StockMovement.objects.get(idempotency_key="till-4:1")
    assert (sale.source, sale.reference, sale.kind, sale.quantity) == (
        "pos-paris",
        "receipt:991",
        "sale",
        -2,
    )


def test_a_replayed_batch_changes_nothing_and_says_so(pos_client):
    store, sku = LocationFactory(), SkuFactory()
    stock(sku, store, 10)
    batch = [row(sku, store, "till-4:1", quantity=-2), row(sku, store, "till-4:2", quantity=-3)]
    sync(pos_client, *batch)
    before = ledger_snapshot()

    response = sync(pos_client, *batch)

    assert response.status_code == 200
    body = response.json()
    assert (body["recorded"], body["replayed"]) == (0, 2)
    assert {r["status"] for r in body["movements"]} == {"replayed"}
    assert {r["on_hand"] for r in body["movements"]} == {5}
    assert ledger_snapshot() == before


def test_a_partly_replayed_batch_records_only_the_new_rows(pos_client):
    store, sku = LocationFactory(), SkuFactory()
    stock(sku, store, 10)
    sync(pos_client, row(sku, store, "k1", quantity=-2))

    response = sync(pos_client, row(sku, store, "k1", quantity=-2), row(sku, store, "k2"))

    assert [r["status"] for r in response.json()["movements"]] == ["replayed", "recorded"]
    assert StockLevel.objects.get(sku=sku, location=store).on_hand == 7


def test_every_bad_row_is_reported_by_index_and_nothing_changes(pos_client):
    store, sku = LocationFactory(), SkuFactory()
    stock(sku, store, 10)
    before = ledger_snapshot()

    response = sync(
        pos_client,
        row(sku, store, "ok-1"),
        row("NO-SUCH-SKU", store, "bad-sku"),
        row(sku, "NO-SUCH-STORE", "bad-location"),
        row(sku, store, "wrong-sign", kind="receipt", quantity=-4),
        row(sku, store, "zero", kind="adjustment", quantity=0),
        row(sku, store, "", quantity=-1),
        row(sku, store, "ok-1"),
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    problems = error["details"]["movements"]
    assert sorted(problems, key=int) == ["1", "2", "3", "4", "5", "6"]
    assert list(problems["1"]) == ["sku"]
    assert "NO-SUCH-SKU" in problems["1"]["sku"][0]
    assert list(problems["2"]) == ["location"]
    assert list(problems["3"]) == ["quantity"]
    assert list(problems["4"]) == ["quantity"]
    assert list(problems["5"]) == ["idempotency_key"]
    assert "twice" in problems["6"]["idempotency_key"][0]
    assert ledger_snapshot() == before


@pytest.mark.parametrize("missing", ["idempotency_key", "sku", "location", "kind", "quantity"])
def test_a_row_missing_a_required_field_is_refused(pos_client, missing):
    store, sku = LocationFactory(), SkuFactory()
    bad = row(sku, store, "k1", kind="receipt", quantity=1)
    del bad[missing]

    response = sync(pos_client, bad)

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]["movements"]["0"]) == [missing]
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize("kind", ["transfer_in", "transfer_out", "cycle_count", "theft"])
def test_kinds_with_their_own_flow_or_unknown_kinds_are_refused(pos_client, kind):
    store, sku = LocationFactory(), SkuFactory()

    response = sync(pos_client, row(sku, store, "k1", kind=kind, quantity=1))

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]["movements"]["0"]) == ["kind"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"movements": []}, "source"),
        ({"source": "pos", "movements": []}, "movements"),
        ({"source": "pos", "movements": "all of them"}, "movements"),
    ],
)
def test_a_batch_without_a_source_or_rows_is_refused(pos_client, body, field):
    response = pos_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_a_batch_over_1000_rows_is_refused_before_any_lookup(
    pos_client, django_assert_max_num_queries
):
    rows = [row("SKU", "STORE", f"k{n}", kind="receipt", quantity=1) for n in range(1001)]

    with django_assert_max_num_queries(4):  # session, user and permissions; no code lookups
        response = sync(pos_client, *rows)

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["movements"]


# Session, user, 2 permission reads; SKUs, locations; levels created and locked, known keys;
# the service's own statements (replays, levels, locks, ledger, on hand); on hand after;
# savepoints. None of it per row.
SYNC_QUERIES = 21


@pytest.mark.parametrize(("sku_count", "store_count"), [(1, 1), (40, 5)])
def test_a_sync_costs_the_same_queries_for_1_or_200_rows(
    pos_client, django_assert_max_num_queries, sku_count, store_count
):
    stores = LocationFactory.create_batch(store_count)
    skus = SkuFactory.create_batch(sku_count)
    rows = [
        row(sku, store, f"{store.code}:{sku.code}", kind="receipt", quantity=3)
        for sku in skus
        for store in stores
    ]

    with django_assert_max_num_queries(SYNC_QUERIES):
        response = sync(pos_client, *rows)

    assert response.status_code == 201
    assert StockMovement.objects.count() == sku_count * store_count


def test_a_sale_of_more_than_is_on_hand_is_refused_whole_with_409(pos_client):
    store, plenty, scarce = LocationFactory(), SkuFactory(), SkuFactory()
    stock(plenty, store, 10)
    stock(scarce, store, 1)
    before = ledger_snapshot()

    response = sync(pos_client, row(plenty, store, "k1"), row(scarce, store, "k2", quantity=-2))

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"]["lines"][0]["sku"] == scarce.code
    assert ledger_snapshot() == before


def test_a_key_reused_for_a_different_movement_is_a_conflict(pos_client):
    store, sku = LocationFactory(), SkuFactory()
    stock(sku, store, 10)
    sync(pos_client, row(sku, store, "k1", quantity=-2))

    response = sync(pos_client, row(sku, store, "k1", quantity=-3))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert StockLevel.objects.get(sku=sku, location=store).on_hand == 8


def test_an_anonymous_sync_is_refused_with_401():
    store, sku = LocationFactory(), SkuFactory()

    response = sync(APIClient(), row(sku, store, "k1", kind="receipt", quantity=1))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not StockMovement.objects.exists()


def test_a_user_without_the_permission_is_refused_with_403():
    store, sku = LocationFactory(), SkuFactory()
    client = APIClient()
    client.force_login(UserFactory(permissions=["inventory.view_stockmovement"]))

    response = sync(client, row(sku, store, "k1", kind="receipt", quantity=1))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not StockMovement.objects.exists()


def test_an_integration_authenticates_with_its_token():
    store, sku = LocationFactory(), SkuFactory()
    token, raw = issue_integration_token(
        user=UserFactory(permissions=[SYNC_PERMISSION]), name="WMS"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")

    response = sync(client, row(sku, store, "k1", kind="receipt", quantity=4), source="wms")

    assert response.status_code == 201
    movement = StockMovement.objects.get()
    assert (movement.actor, movement.source) == (token.user, "wms")


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_batch_retried_while_the_first_attempt_is_still_running_is_recorded_once():
    store, sku = LocationFactory(), SkuFactory()
    stock(sku, store, 50)
    specs = [
        MovementSpec(sku.pk, store.pk, "sale", -1, idempotency_key=f"till-9:{n}") for n in range(5)
    ]
    attempts = 8

    outcome = run_concurrently(
        [lambda: sync_movements(specs=specs, source="pos") for _ in range(attempts)], Conflict
    )

    summary = outcome.summary(attempts)
    assert not outcome.crashed, summary
    assert not outcome.refused, summary
    statuses = sorted(report.recorded for report in outcome.granted)
    assert statuses == [0] * (attempts - 1) + [5], summary
    assert StockLevel.objects.get(sku=sku, location=store).on_hand == 45, summary
    assert StockMovement.objects.filter(kind="sale").count() == 5, summary
