"""Stock levels, the quantities cached beside the ledger: finding or creating them, changing
on hand or reserved by many deltas in one statement, and saying what is short. (Their row
locks are ``inventory.locks``'.)"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Literal, TypedDict

from django.db.models import Q
from django.utils import timezone

from inventory.models import Sku, StockLevel
from omni.core.counters import add_to_counters
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


def add_to_levels(column: Literal["on_hand", "reserved"], deltas: Mapping[int, int]) -> None:
    """One UPDATE that adds each level's delta to on hand or reserved and stamps ``updated_at``.

    On PostgreSQL ``add_to_counters`` joins the deltas as a table (unnest): one pass whatever
    the batch size, where a CASE with one branch per level is quadratic (slow for a sync batch).
    """
    add_to_counters(StockLevel, {column: deltas}, also_set={"updated_at": timezone.now()})


class Shortage(TypedDict):
    """One line that cannot be served, as ``InsufficientStock`` details name it."""

    sku: str
    location: str
    requested: int
    available: int


def shortage(level: StockLevel, requested: int, available: int) -> Shortage:
    return {
        "sku": level.sku.code,
        "location": level.location.code,
        "requested": requested,
        "available": max(available, 0),
    }


def raise_if_short(shortages: list[Shortage]) -> None:
    if shortages:
        names = ", ".join(f"{s['sku']} at {s['location']}" for s in shortages)
        raise InsufficientStock(f"Not enough stock for {names}.", details={"lines": shortages})


def require_active_skus(skus: Iterable[Sku]) -> None:
    """Transfers and counts name SKUs that are still sold; an inactive one is refused."""
    inactive = sorted(sku.code for sku in skus if not sku.is_active)
    if inactive:
        raise InvalidRequest(
            f"Inactive SKU: {', '.join(inactive)}.", details={"inactive_skus": inactive}
        )
