import pytest

from inventory import services
from inventory.models import StockLevel, StockMovement, Transfer
from omni.core.errors import InsufficientStock, InvalidRequest, InvalidTransition
from tests.inventory.factories import LocationFactory, SkuFactory, stock

pytestmark = pytest.mark.django_db

Kind = StockMovement.Kind


def on_hand(sku, location) -> int:
    return StockLevel.objects.get(sku=sku, location=location).on_hand


def test_a_transfer_writes_transfer_out_when_shipped_and_transfer_in_when_received():
    sku, warehouse, store = SkuFactory(), LocationFactory(), LocationFactory()
    stock(sku, warehouse, 10)
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 4})

    services.ship_transfer(transfer=transfer)
    assert (on_hand(sku, warehouse), StockLevel.objects.filter(location=store).count()) == (6, 0)

    services.receive_transfer(transfer=transfer)
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.RECEIVED
    assert on_hand(sku, store) == 4
    kinds = StockMovement.objects.filter(reference=f"transfer:{transfer.public_id}")
    assert sorted(kinds.values_list("kind", "quantity")) == [
        (Kind.TRANSFER_IN, 4),
        (Kind.TRANSFER_OUT, -4),
    ]


def test_a_short_delivery_records_what_arrived():
    sku, warehouse, store = SkuFactory(), LocationFactory(), LocationFactory()
    stock(sku, warehouse, 10)
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 4})
    services.ship_transfer(transfer=transfer)

    services.receive_transfer(transfer=transfer, received={sku.pk: 3})

    assert on_hand(sku, store) == 3
    assert transfer.lines.get().received_quantity == 3


def test_a_transfer_to_the_same_location_is_refused():
    sku, store = SkuFactory(), LocationFactory()

    with pytest.raises(InvalidRequest):
        services.request_transfer(source=store, destination=store, lines={sku: 1})

    assert not Transfer.objects.exists()


def test_shipping_more_than_the_source_can_spare_is_refused_and_the_transfer_stays_requested():
    sku, warehouse, store = SkuFactory(), LocationFactory(), LocationFactory()
    stock(sku, warehouse, 2)
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 3})

    with pytest.raises(InsufficientStock):
        services.ship_transfer(transfer=transfer)

    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.REQUESTED
    assert on_hand(sku, warehouse) == 2


def test_a_transfer_cannot_be_received_before_it_is_shipped():
    sku, warehouse, store = SkuFactory(), LocationFactory(), LocationFactory()
    stock(sku, warehouse, 5)
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 1})

    with pytest.raises(InvalidTransition):
        services.receive_transfer(transfer=transfer)

    assert StockLevel.objects.filter(location=store).count() == 0


def test_a_shipped_transfer_cannot_be_cancelled():
    sku, warehouse, store = SkuFactory(), LocationFactory(), LocationFactory()
    stock(sku, warehouse, 5)
    transfer = services.request_transfer(source=warehouse, destination=store, lines={sku: 1})
    services.ship_transfer(transfer=transfer)

    with pytest.raises(InvalidTransition):
        services.cancel_transfer(transfer=transfer)

    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.IN_TRANSIT


def test_a_cycle_count_turns_each_difference_into_a_ledger_row():
    store = LocationFactory()
    short, exact, new = SkuFactory(), SkuFactory(), SkuFactory()
    stock(short, store, 10)
    stock(exact, store, 4)

    count = services.record_cycle_count(location=store, counts={short: 7, exact: 4, new: 2})

    assert (on_hand(short, store), on_hand(exact, store), on_hand(new, store)) == (7, 4, 2)
    lines = {line.sku_id: (line.expected, line.counted) for line in count.lines.all()}
    assert lines == {short.pk: (10, 7), exact.pk: (4, 4), new.pk: (0, 2)}
    corrections = StockMovement.objects.filter(kind=Kind.CYCLE_COUNT)
    assert sorted(corrections.values_list("quantity", flat=True)) == [-3, 2]


def test_a_count_for_an_inactive_sku_is_refused_and_changes_nothing():
    store = LocationFactory()
    active, retired = SkuFactory(), SkuFactory(is_active=False)
    stock(active, store, 5)

    with pytest.raises(InvalidRequest) as refused:
        services.record_cycle_count(location=store, counts={active: 1, retired: 0})

    assert refused.value.details == {"inactive_skus": [retired.code]}
    assert on_hand(active, store) == 5
