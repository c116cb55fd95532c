import pytest
from django.db import IntegrityError, InternalError, transaction
from django.db.models import Sum

from inventory import services
from inventory.models import StockLevel, StockMovement
from inventory.services import MovementSpec
from omni.core.errors import Conflict, InsufficientStock, InvalidRequest
from tests.inventory.factories import LocationFactory, SkuFactory, stock

pytestmark = pytest.mark.django_db

Kind = StockMovement.Kind


def ledger_sum(level: StockLevel) -> int:
    return level.movements.aggregate(total=Sum("quantity"))["total"] or 0


def test_a_receipt_adds_to_on_hand_and_writes_one_ledger_row():
    sku, store = SkuFactory(), LocationFactory()

    movement = services.record_movement(sku=sku, location=store, kind=Kind.RECEIPT, quantity=12)

    level = StockLevel.objects.get(sku=sku, location=store)
    assert level.on_hand == 12
    assert movement.level == level
    assert ledger_sum(level) == 12


def test_a_decrease_may_not_take_on_hand_below_zero_and_changes_nothing():
    sku, store = SkuFactory(), LocationFactory()
    level = stock(sku, store, 3)

    with pytest.raises(InsufficientStock) as refused:
        services.record_movement(sku=sku, location=store, kind=Kind.DAMAGE, quantity=-4)

    assert refused.value.details["lines"][0]["available"] == 3
    level.refresh_from_db()
    assert level.on_hand == 3
    assert level.movements.count() == 1


@pytest.mark.parametrize(
    ("kind", "quantity"),
    [(Kind.RECEIPT, -1), (Kind.SALE, 2), (Kind.DAMAGE, 1), (Kind.ADJUSTMENT, 0), ("theft", -1)],
)
def test_a_movement_with_the_wrong_sign_for_its_kind_is_refused(kind, quantity):
    sku, store = SkuFactory(), LocationFactory()

    with pytest.raises(InvalidRequest):
        services.record_movement(sku=sku, location=store, kind=kind, quantity=quantity)

    assert not StockMovement.objects.exists()


def test_a_replayed_idempotency_key_returns_the_first_movement_and_changes_nothing():
    sku, store = SkuFactory(), LocationFactory()
    spec = MovementSpec(sku.pk, store.pk, Kind.RECEIPT, 5, idempotency_key="pos-1-line-1")

    first = services.record_movements([spec])[0]
    again = services.record_movements([spec])[0]

    assert again.pk == first.pk
    assert StockLevel.objects.get(sku=sku, location=store).on_hand == 5


def test_an_idempotency_key_reused_for_another_movement_is_a_conflict():
    sku, store = SkuFactory(), LocationFactory()
    services.record_movements(
        [MovementSpec(sku.pk, store.pk, Kind.RECEIPT, 5, idempotency_key="k")]
    )

    with pytest.raises(Conflict):
        services.record_movements(
            [MovementSpec(sku.pk, store.pk, Kind.RECEIPT, 6, idempotency_key="k")]
        )

    assert StockLevel.objects.get(sku=sku, location=store).on_hand == 5


def test_a_batch_is_all_or_nothing():
    sku, store = SkuFactory(), LocationFactory()
    other = SkuFactory()

    with pytest.raises(InsufficientStock):
        services.record_movements(
            [
                MovementSpec(sku.pk, store.pk, Kind.RECEIPT, 10),
                MovementSpec(other.pk, store.pk, Kind.SALE, -1),
            ]
        )

    assert not StockMovement.objects.exists()
    assert not StockLevel.objects.filter(on_hand__gt=0).exists()


def test_a_decrease_cannot_take_stock_reserved_for_customers():
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 5)
    services.reserve(
        lines=[services.StockLine(sku.pk, store.pk, 4)], kind="order", reference="order:1"
    )

    with pytest.raises(InsufficientStock):
        services.record_movement(sku=sku, location=store, kind=Kind.DAMAGE, quantity=-2)

    services.record_movement(sku=sku, location=store, kind=Kind.DAMAGE, quantity=-1)
    assert StockLevel.objects.get(sku=sku, location=store).on_hand == 4


@pytest.mark.parametrize("change", ["update", "delete"])
def test_the_database_refuses_to_change_or_delete_a_ledger_row(change):
    sku, store = SkuFactory(), LocationFactory()
    stock(sku, store, 5)
    rows = StockMovement.objects.all()

    with pytest.raises((InternalError, IntegrityError), match="append-only"), transaction.atomic():
        rows.update(quantity=50) if change == "update" else rows.delete()

    assert ledger_sum(StockLevel.objects.get()) == 5
