"""Every row lock on inventory's tables goes through this module, which decides the lock
order (primary key) and what is locked (``of=("self",)``: the table's own rows, never the
SKU or location rows read in the same query). Call these inside the caller's transaction."""

from collections.abc import Iterable

from inventory.models import StockLevel, Transfer


def lock_levels(ids: Iterable[int]) -> dict[int, StockLevel]:
    """Row-lock levels in primary-key order (the one lock order, so no deadlocks), each with
    its SKU and location read alongside; returns them by id (missing ids are absent)."""
    levels = (
        StockLevel.objects.select_for_update(of=("self",))
        .select_related("sku", "location")
        .filter(pk__in=set(ids))
        .order_by("pk")
    )
    return {level.pk: level for level in levels}


def lock_transfer(transfer: Transfer) -> Transfer:
    """Row-lock a transfer and read it afresh, so two steps of its life never run at once."""
    return Transfer.objects.select_for_update(of=("self",)).get(pk=transfer.pk)
