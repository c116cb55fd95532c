"""Reservations: stock promised to a cart (a hold that lapses) or an order, taken off what
online channels may sell until it is released, consumed or expired."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from inventory.locks import lock_levels
from inventory.models import Location, Reservation, Sku, StockLevel, StockMovement
from inventory.services.levels import (
    Shortage,
    add_to_levels,
    level_ids,
    raise_if_short,
    shortage,
)
from omni.core.batches import in_locked_batches
from omni.core.errors import InvalidRequest


@dataclass(frozen=True)
class StockLine:
    """A quantity of one SKU at one location, as callers ask for it."""

    sku_id: int
    location_id: int
    quantity: int


def _merge_lines(lines: Iterable[StockLine]) -> dict[tuple[int, int], int]:
    merged: dict[tuple[int, int], int] = defaultdict(int)
    for line in lines:
        if line.quantity <= 0:
            raise InvalidRequest("Quantities must be positive.")
        merged[(line.sku_id, line.location_id)] += line.quantity
    return merged


def _expire_holds_on(level_ids_: Iterable[int], now: datetime) -> int:
    """Expire lapsed cart holds on levels the caller has locked; returns units freed."""
    expired = Reservation.objects.filter(
        level_id__in=set(level_ids_),
        kind=Reservation.Kind.CART_HOLD,
        status=Reservation.Status.ACTIVE,
        expires_at__lte=now,
    )
    freed = dict(
        expired.values("level_id").annotate(total=Sum("quantity")).values_list("level_id", "total")
    )
    if freed:
        expired.update(status=Reservation.Status.EXPIRED, closed_at=now)
        add_to_levels("reserved", {pk: -total for pk, total in freed.items()})
    return sum(freed.values())


def _locked_levels_for(wanted: dict[tuple[int, int], int]) -> dict[tuple[int, int], StockLevel]:
    """Lock the levels of the wanted (sku, location) pairs; a missing level has no stock."""
    ids = level_ids(set(wanted))
    locked = lock_levels(ids.values())
    return {pair: locked[pk] for pair, pk in ids.items()}


def _unavailable(
    wanted: dict[tuple[int, int], int], levels: dict[tuple[int, int], StockLevel]
) -> list[tuple[int, int]]:
    return [
        pair
        for pair, quantity in wanted.items()
        if pair not in levels or levels[pair].available < quantity
    ]


def _shortages_for(
    wanted: dict[tuple[int, int], int],
    levels: dict[tuple[int, int], StockLevel],
    pairs: list[tuple[int, int]],
) -> list[Shortage]:
    missing = [pair for pair in pairs if pair not in levels]
    skus = dict(Sku.objects.filter(pk__in={s for s, _ in missing}).values_list("pk", "code"))
    places = dict(
        Location.objects.filter(pk__in={loc for _, loc in missing}).values_list("pk", "code")
    )
    shortages: list[Shortage] = []
    for pair in pairs:
        level = levels.get(pair)
        if level is None:
            sku, location = pair
            shortages.append(
                {
                    "sku": skus[sku],
                    "location": places[location],
                    "requested": wanted[pair],
                    "available": 0,
                }
            )
        else:
            shortages.append(shortage(level, wanted[pair], level.available))
    return shortages


@transaction.atomic
def reserve(
    *,
    lines: Iterable[StockLine],
    kind: str,
    reference: str,
    expires_at: datetime | None = None,
) -> list[Reservation]:
    """Reserve every line or nothing: online channels get only available stock.

    Lapsed cart holds of other carts count as gone even before the clean-up task has run: a
    level short by its row's numbers has them expired under its lock and is checked again, so
    reservation grants exactly what the reads show as sellable (``selectors.with_sellable``).
    """
    if kind == Reservation.Kind.CART_HOLD and expires_at is None:
        raise InvalidRequest("A cart hold needs an expiry.")
    wanted = _merge_lines(lines)
    levels = _locked_levels_for(wanted)
    short = _unavailable(wanted, levels)
    if short:
        now = timezone.now()
        if _expire_holds_on((levels[p].pk for p in short if p in levels), now):
            levels = _locked_levels_for(wanted)  # re-read the freed quantities
            short = _unavailable(wanted, levels)
    if short:
        raise_if_short(_shortages_for(wanted, levels, short))
    add_to_levels("reserved", {levels[pair].pk: quantity for pair, quantity in wanted.items()})
    return Reservation.objects.bulk_create(
        [
            Reservation(
                level=levels[pair],
                kind=kind,
                quantity=quantity,
                reference=reference,
                expires_at=expires_at,
            )
            for pair, quantity in wanted.items()
        ]
    )


def _close(reservations: list[Reservation], status: str, now: datetime) -> dict[int, int]:
    """Mark reservations closed and take their quantities off reserved; returns per-level units."""
    per_level: dict[int, int] = defaultdict(int)
    for reservation in reservations:
        per_level[reservation.level_id] += reservation.quantity
    Reservation.objects.filter(pk__in=[r.pk for r in reservations]).update(
        status=status, closed_at=now
    )
    add_to_levels("reserved", {pk: -units for pk, units in per_level.items()})
    return per_level


def _active_reservations(reference: str, kind: str | None) -> list[Reservation]:
    query = Reservation.objects.filter(reference=reference, status=Reservation.Status.ACTIVE)
    if kind:
        query = query.filter(kind=kind)
    reservations = list(query.order_by("pk"))
    lock_levels(r.level_id for r in reservations)
    # Re-read under the locks: a concurrent call may have closed some meanwhile.
    return list(
        Reservation.objects.filter(
            pk__in=[r.pk for r in reservations], status=Reservation.Status.ACTIVE
        ).select_related("level")
    )


@transaction.atomic
def release_reservations(*, reference: str, kind: str | None = None) -> int:
    """Put back everything still reserved for a cart or order; returns the units released."""
    reservations = _active_reservations(reference, kind)
    return sum(_close(reservations, Reservation.Status.RELEASED, timezone.now()).values())


@transaction.atomic
def consume_reservations(
    *,
    reference: str,
    actor: User | None = None,
    reason: str = "",
    kind: str | None = None,
) -> list[StockMovement]:
    """The reserved stock leaves the shelf (a pick-up collected, a parcel shipped): reserved and
    on hand both go down, and the sale is written to the ledger."""
    reservations = _active_reservations(reference, kind)
    per_level = _close(reservations, Reservation.Status.CONSUMED, timezone.now())
    return _record_sales(per_level, reference=reference, actor=actor, reason=reason)


def _reserved_under(
    reference: str, wanted: dict[tuple[int, int], int]
) -> dict[tuple[int, int], list[Reservation]]:
    """The active reservations under ``reference`` on the wanted (sku, location) levels, their
    levels locked first (the one lock order), oldest first."""
    levels = _locked_levels_for(wanted)
    found: dict[tuple[int, int], list[Reservation]] = defaultdict(list)
    by_level = {level.pk: pair for pair, level in levels.items()}
    for reservation in Reservation.objects.filter(
        reference=reference, status=Reservation.Status.ACTIVE, level_id__in=list(by_level)
    ).order_by("pk"):
        found[by_level[reservation.level_id]].append(reservation)
    return found


def _close_part(reference: str, lines: Iterable[StockLine], status: str) -> dict[int, int]:
    """Close exactly the units of ``lines`` among what ``reference`` reserves, splitting a
    reservation when only part of it goes; returns units closed per level. Refuses, changing
    nothing, when fewer units are reserved than asked (already taken, or never reserved)."""
    wanted = _merge_lines(lines)
    reserved = _reserved_under(reference, wanted)
    now = timezone.now()
    per_level: dict[int, int] = defaultdict(int)
    for pair, units in wanted.items():
        held = sum(r.quantity for r in reserved[pair])
        if held < units:
            sku = Sku.objects.filter(pk=pair[0]).values_list("code", flat=True).first()
            raise InvalidRequest(
                f"Only {held} of {sku} are reserved for {reference}; {units} were asked.",
                details={"sku": sku, "reserved": held, "requested": units},
            )
        for reservation in reserved[pair]:
            if units == 0:
                break
            portion = min(reservation.quantity, units)
            if portion < reservation.quantity:  # keep the rest reserved, close the portion
                Reservation.objects.filter(pk=reservation.pk).update(
                    quantity=reservation.quantity - portion
                )
                Reservation.objects.create(
                    level_id=reservation.level_id,
                    kind=reservation.kind,
                    quantity=portion,
                    reference=reference,
                    expires_at=reservation.expires_at,
                    status=status,
                    closed_at=now,
                )
            else:
                Reservation.objects.filter(pk=reservation.pk).update(status=status, closed_at=now)
            per_level[reservation.level_id] += portion
            units -= portion
    add_to_levels("reserved", {pk: -units for pk, units in per_level.items()})
    return per_level


@transaction.atomic
def release_reserved(*, reference: str, lines: Iterable[StockLine]) -> int:
    """Put back part of what ``reference`` reserves (a line that moved to another location or
    was cancelled): exactly these units, or nothing. Returns the units released."""
    return sum(_close_part(reference, lines, Reservation.Status.RELEASED).values())


@transaction.atomic
def consume_reserved(
    *,
    reference: str,
    lines: Iterable[StockLine],
    actor: User | None = None,
    reason: str = "",
) -> list[StockMovement]:
    """Part of what ``reference`` reserves leaves the shelf (one parcel of a shipment): exactly
    these units go out of reserved and on hand, written to the ledger as a sale, or nothing
    changes. A second report of the same units finds them no longer reserved and is refused,
    so stock is never taken twice."""
    per_level = _close_part(reference, lines, Reservation.Status.CONSUMED)
    return _record_sales(per_level, reference=reference, actor=actor, reason=reason)


def _record_sales(
    per_level: dict[int, int], *, reference: str, actor: User | None, reason: str
) -> list[StockMovement]:
    movements = StockMovement.objects.bulk_create(
        [
            StockMovement(
                level_id=pk,
                kind=StockMovement.Kind.SALE,
                quantity=-units,
                reason=reason,
                reference=reference,
                actor=actor,
            )
            for pk, units in per_level.items()
        ]
    )
    add_to_levels("on_hand", {pk: -units for pk, units in per_level.items()})
    return movements


@transaction.atomic
def extend_holds(*, reference: str, until: datetime) -> int:
    """Keep a cart's holds alive while the shopper is active; returns how many were extended."""
    return Reservation.objects.filter(
        reference=reference,
        kind=Reservation.Kind.CART_HOLD,
        status=Reservation.Status.ACTIVE,
        expires_at__gt=timezone.now(),
    ).update(expires_at=until)


def expire_cart_holds(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Release every lapsed cart hold (the beat task); returns the number of holds expired.

    Works in batches of levels, each in its own short transaction, so a large backlog never
    holds many row locks at once.
    """
    now = now or timezone.now()
    lapsed = Reservation.objects.filter(
        kind=Reservation.Kind.CART_HOLD,
        status=Reservation.Status.ACTIVE,
        expires_at__lte=now,
    )

    def expire(level_batch: list[int]) -> int:
        count = lapsed.filter(level_id__in=level_batch).count()
        _expire_holds_on(level_batch, now)
        return count

    return in_locked_batches(
        lapsed.values_list("level_id", flat=True).distinct().order_by("level_id"),
        lock=lock_levels,
        process=expire,
        batch_size=batch_size,
    )
