"""Checking the stock truths against the database: on hand = sum of ledger, reserved = sum of
active reservations. Used by the `verify_stock_ledger` command and its tests."""

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from inventory.models import Reservation, StockLevel, StockMovement


@dataclass(frozen=True)
class Drift:
    level_id: int
    sku: str
    location: str
    on_hand: int
    ledger: int
    reserved: int
    active_reservations: int


def _sum_of(queryset, column: str) -> Coalesce:
    total = queryset.values("level_id").annotate(total=Sum(column)).values("total")
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def drifts_between(first_pk: int, last_pk: int) -> list[Drift]:
    """Levels with primary keys in [first_pk, last_pk] that disagree with ledger or reservations."""
    rows = (
        StockLevel.objects.filter(pk__gte=first_pk, pk__lte=last_pk)
        .annotate(
            ledger=_sum_of(StockMovement.objects.filter(level_id=OuterRef("pk")), "quantity"),
            active=_sum_of(
                Reservation.objects.filter(level_id=OuterRef("pk"), status="active"), "quantity"
            ),
        )
        .filter(~Q(on_hand=F("ledger")) | ~Q(reserved=F("active")))
        .values_list("pk", "sku__code", "location__code", "on_hand", "ledger", "reserved", "active")
    )
    return [Drift(*row) for row in rows]


def level_id_ranges(chunk: int) -> Iterator[tuple[int, int, int]]:
    """(first_pk, last_pk, levels in range) chunks covering every level, for progress output."""
    ids = StockLevel.objects.order_by("pk").values_list("pk", flat=True)
    start = None
    count = 0
    for pk in ids.iterator(chunk_size=chunk):
        start = pk if start is None else start
        count += 1
        if count == chunk:
            yield start, pk, count
            start, count = None, 0
    if start is not None:
        yield start, pk, count
