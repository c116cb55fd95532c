"""Stock levels, the cached quantities beside the ledger: finding or creating them, locking
them in the one order, changing on hand or reserved by many deltas in one statement, and
saying what is short."""

from collections import defaultdict
from collections.abc import Iterable

from django.db import connection
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone

from inventory.models import Sku, StockLevel
from omni.core.errors import InsufficientStock, InvalidRequest


def ensure_levels(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Level ids for (sku_id, location_id) pairs, creating empty levels that don't exist yet."""
    pairs = set(pairs)
    StockLevel.objects.bulk_create(
        [StockLevel(sku_id=sku, location_id=loc) for sku, loc in pairs], ignore_conflicts=True
    )
    return level_ids(pairs)


def level_ids(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Level ids of (sku_id, location_id) pairs that have a level, in one query: one condition
    per location (a few hundred at most), not one per pair (thousands in a sync batch)."""
    if not pairs:
        return {}
    skus_at: dict[int, set[int]] = defaultdict(set)
    for sku, loc in pairs:
        skus_at[loc].add(sku)
    by_location = Q()
    for loc, skus in skus_at.items():
        by_location |= Q(location_id=loc, sku_id__in=skus)
    rows = StockLevel.objects.filter(by_location).values_list("sku_id", "location_id", "pk")
    return {(sku, loc): pk for sku, loc, pk in rows if (sku, loc) in pairs}


# PostgreSQL joins the deltas as a table: one pass whatever the batch size. (A CASE with one
# branch per level, the portable form, is quadratic: fine for a few lines, slow for a sync batch.)
_ADD_TO_LEVELS_SQL = """
UPDATE inventory_stocklevel AS level
SET {field} = level.{field} + change.delta, updated_at = %s
FROM unnest(%s::bigint[], %s::integer[]) AS change(id, delta)
WHERE level.id = change.id
"""


def _add_to_levels(field: str, deltas: dict[int, int]) -> None:
    """One UPDATE that adds each level's delta to ``field`` (on_hand or reserved)."""
    if field not in ("on_hand", "reserved"):  # it is formatted into SQL
        raise ValueError(f"Not a stock quantity: {field!r}")
    deltas = {pk: delta for pk, delta in deltas.items() if delta}
    if not deltas:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _ADD_TO_LEVELS_SQL.format(field=field),
                [timezone.now(), list(deltas), list(deltas.values())],
            )
        return
    change = Case(
        *[When(pk=pk, then=Value(delta)) for pk, delta in deltas.items()],
        output_field=IntegerField(),
    )
    StockLevel.objects.filter(pk__in=deltas).update(
        **{field: F(field) + change, "updated_at": timezone.now()}
    )


def _shortage(level: StockLevel, requested: int, available: int) -> dict:
    return {
        "sku": level.sku.code,
        "location": level.location.code,
        "requested": requested,
        "available": max(available, 0),
    }


def _raise_if_short(shortages: list[dict]) -> None:
    if shortages:
        names = ", ".join(f"{s['sku']} at {s['location']}" for s in shortages)
        raise InsufficientStock(f"Not enough stock for {names}.", details={"lines": shortages})


def _require_active_skus(skus: Iterable[Sku]) -> None:
    """Transfers and counts name SKUs that are still sold; an inactive one is refused."""
    inactive = sorted(sku.code for sku in skus if not sku.is_active)
    if inactive:
        raise InvalidRequest(
            f"Inactive SKU: {', '.join(inactive)}.", details={"inactive_skus": inactive}
        )
