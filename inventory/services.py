"""Every change of stock, each atomic: the ledger, reservations, sales, transfers and counts.

Rules that hold here and nowhere else:
- on hand changes only by appending StockMovement rows, with the level updated in the same
  transaction, so a level always equals the sum of its ledger;
- a transaction that changes several levels locks them in primary-key order, so two multi-line
  orders never deadlock;
- online channels take only *available* stock (on hand - reserved - safety stock); a clerk's
  sale or a transfer may use the safety stock but never stock reserved for someone else, and
  on hand never goes below zero.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Q, Sum, Value, When
from django.utils import timezone

from inventory.models import (
    CycleCount,
    CycleCountLine,
    Location,
    LowStockAlert,
    Reservation,
    Sku,
    StockLevel,
    StockMovement,
    Transfer,
    TransferLine,
)
from omni.core.errors import Conflict, InsufficientStock, InvalidRequest, InvalidTransition


@dataclass(frozen=True)
class StockLine:
    """A quantity of one SKU at one location, as callers ask for it."""

    sku_id: int
    location_id: int
    quantity: int


@dataclass(frozen=True)
class MovementSpec:
    sku_id: int
    location_id: int
    kind: str
    quantity: int
    reason: str = ""
    reference: str = ""
    idempotency_key: str | None = None


# --- Levels and locks ------------------------------------------------------------------------


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


def lock_levels(ids: Iterable[int]) -> dict[int, StockLevel]:
    """Row-lock levels in primary-key order (the one lock order, so no deadlocks)."""
    levels = (
        StockLevel.objects.select_for_update(of=("self",))
        .select_related("sku", "location")
        .filter(pk__in=set(ids))
        .order_by("pk")
    )
    return {level.pk: level for level in levels}


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


# --- The ledger ------------------------------------------------------------------------------


def validate_movement(spec: MovementSpec) -> None:
    """Refuse a movement whose quantity has the wrong sign for its kind."""
    if spec.kind not in StockMovement.Kind.values:
        raise InvalidRequest(f"Unknown movement kind {spec.kind!r}.")
    sign = StockMovement.SIGN[spec.kind]
    if spec.quantity == 0 or (sign is not None and spec.quantity * sign < 0):
        direction = {1: "positive", -1: "negative", None: "not zero"}[sign]
        raise InvalidRequest(f"A {spec.kind} movement's quantity must be {direction}.")


@transaction.atomic
def record_movements(
    specs: list[MovementSpec], *, actor=None, source: str = ""
) -> list[StockMovement]:
    """Append movements to the ledger and change on hand by the same amounts, all or nothing.

    A movement whose idempotency key is already in the ledger is a replay: it is returned as
    recorded the first time and changes nothing. The same key with a different movement is a
    conflict. Each returned movement says which it was in ``movement.replayed``. On hand may
    never go below zero; stock reserved for customers may not be taken by a decrease either.
    """
    for spec in specs:
        validate_movement(spec)
    ids = ensure_levels((spec.sku_id, spec.location_id) for spec in specs)
    # Locks first, keys second: a retry racing its first attempt waits here for it to commit,
    # then finds its keys and replays instead of inserting them a second time.
    levels = lock_levels(ids.values())
    replays = _replayed_movements(specs)
    fresh = [spec for spec in specs if spec.idempotency_key not in replays]
    deltas: dict[int, int] = defaultdict(int)
    for spec in fresh:
        deltas[ids[(spec.sku_id, spec.location_id)]] += spec.quantity
    _raise_if_short(
        [
            _shortage(levels[pk], -delta, levels[pk].on_hand - levels[pk].reserved)
            for pk, delta in deltas.items()
            if delta < 0 and levels[pk].on_hand - levels[pk].reserved + delta < 0
        ]
    )
    created = StockMovement.objects.bulk_create(
        [
            StockMovement(
                level_id=ids[(spec.sku_id, spec.location_id)],
                kind=spec.kind,
                quantity=spec.quantity,
                reason=spec.reason,
                reference=spec.reference,
                idempotency_key=spec.idempotency_key,
                actor=actor,
                source=source,
            )
            for spec in fresh
        ]
    )
    _add_to_levels("on_hand", deltas)
    for movement in created:
        movement.replayed = False
    for movement in replays.values():
        movement.replayed = True
    fresh_iter = iter(created)
    return [
        replays[spec.idempotency_key] if spec.idempotency_key in replays else next(fresh_iter)
        for spec in specs
    ]


def _replayed_movements(specs: list[MovementSpec]) -> dict[str, StockMovement]:
    keys = [spec.idempotency_key for spec in specs if spec.idempotency_key]
    if len(keys) != len(set(keys)):
        raise InvalidRequest("An idempotency key appears twice in one batch.")
    if not keys:
        return {}
    existing = {
        movement.idempotency_key: movement
        for movement in StockMovement.objects.filter(idempotency_key__in=keys).select_related(
            "level"
        )
    }
    for spec in specs:
        movement = existing.get(spec.idempotency_key)
        if movement is not None and (
            movement.level.sku_id,
            movement.level.location_id,
            movement.kind,
            movement.quantity,
        ) != (spec.sku_id, spec.location_id, spec.kind, spec.quantity):
            raise Conflict(
                f"Idempotency key {spec.idempotency_key!r} was used for a different movement.",
                details={"idempotency_key": spec.idempotency_key},
            )
    return existing


def record_movement(
    *,
    sku: Sku,
    location: Location,
    kind: str,
    quantity: int,
    reason: str = "",
    reference: str = "",
    actor=None,
    source: str = "",
    idempotency_key: str | None = None,
) -> StockMovement:
    spec = MovementSpec(sku.pk, location.pk, kind, quantity, reason, reference, idempotency_key)
    return record_movements([spec], actor=actor, source=source)[0]


# --- Reservations ----------------------------------------------------------------------------


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
        _add_to_levels("reserved", {pk: -total for pk, total in freed.items()})
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


def _shortages_for(wanted, levels, pairs) -> list[dict]:
    missing = [pair for pair in pairs if pair not in levels]
    skus = dict(Sku.objects.filter(pk__in={s for s, _ in missing}).values_list("pk", "code"))
    places = dict(
        Location.objects.filter(pk__in={loc for _, loc in missing}).values_list("pk", "code")
    )
    shortages = []
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
            shortages.append(_shortage(level, wanted[pair], level.available))
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

    Lapsed cart holds of other carts count as gone even before the clean-up task has run.
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
        _raise_if_short(_shortages_for(wanted, levels, short))
    _add_to_levels("reserved", {levels[pair].pk: quantity for pair, quantity in wanted.items()})
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
    _add_to_levels("reserved", {pk: -units for pk, units in per_level.items()})
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
    *, reference: str, actor=None, reason: str = "", kind: str | None = None
) -> list[StockMovement]:
    """The reserved stock leaves the shelf (a pick-up collected, a parcel shipped): reserved and
    on hand both go down, and the sale is written to the ledger."""
    reservations = _active_reservations(reference, kind)
    now = timezone.now()
    per_level = _close(reservations, Reservation.Status.CONSUMED, now)
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
    _add_to_levels("on_hand", {pk: -units for pk, units in per_level.items()})
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
    expired = 0
    while True:
        with transaction.atomic():
            lapsed = Reservation.objects.filter(
                kind=Reservation.Kind.CART_HOLD,
                status=Reservation.Status.ACTIVE,
                expires_at__lte=now,
            )
            level_batch = list(
                lapsed.values_list("level_id", flat=True)
                .distinct()
                .order_by("level_id")[:batch_size]
            )
            if not level_batch:
                return expired
            lock_levels(level_batch)
            count = lapsed.filter(level_id__in=level_batch).count()
            _expire_holds_on(level_batch, now)
            expired += count


# --- Sales in store --------------------------------------------------------------------------


@transaction.atomic
def sell_in_store(
    *, location: Location, lines: dict[Sku, int], reference: str, actor=None
) -> list[StockMovement]:
    """A clerk's sale: stock leaves at once. It may use the safety stock, never others' reserved."""
    specs = [
        MovementSpec(sku.pk, location.pk, StockMovement.Kind.SALE, -quantity, reference=reference)
        for sku, quantity in lines.items()
    ]
    if any(quantity <= 0 for quantity in lines.values()):
        raise InvalidRequest("Quantities must be positive.")
    return record_movements(specs, actor=actor, source="store")


# --- Transfers -------------------------------------------------------------------------------

TRANSFER_TRANSITIONS = {
    Transfer.Status.REQUESTED: {Transfer.Status.IN_TRANSIT, Transfer.Status.CANCELLED},
    Transfer.Status.IN_TRANSIT: {Transfer.Status.RECEIVED},
    Transfer.Status.RECEIVED: set(),
    Transfer.Status.CANCELLED: set(),
}


def _move_transfer(transfer: Transfer, status: str) -> Transfer:
    locked = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if status not in TRANSFER_TRANSITIONS[locked.status]:
        raise InvalidTransition(
            f"A {locked.get_status_display().lower()} transfer cannot become "
            f"{Transfer.Status(status).label.lower()}.",
            details={"from": locked.status, "to": status},
        )
    locked.status = status
    return locked


def _require_active_skus(skus: Iterable[Sku]) -> None:
    inactive = sorted(sku.code for sku in skus if not sku.is_active)
    if inactive:
        raise InvalidRequest(
            f"Inactive SKU: {', '.join(inactive)}.", details={"inactive_skus": inactive}
        )


@transaction.atomic
def request_transfer(
    *, source: Location, destination: Location, lines: dict[Sku, int], actor=None, note: str = ""
) -> Transfer:
    if source.pk == destination.pk:
        raise InvalidRequest("A transfer needs two different locations.")
    if not lines:
        raise InvalidRequest("A transfer needs at least one line.")
    if any(quantity <= 0 for quantity in lines.values()):
        raise InvalidRequest("Quantities must be positive.")
    _require_active_skus(lines)
    transfer = Transfer.objects.create(
        source=source, destination=destination, requested_by=actor, note=note
    )
    TransferLine.objects.bulk_create(
        [TransferLine(transfer=transfer, sku=sku, quantity=q) for sku, q in lines.items()]
    )
    return transfer


@transaction.atomic
def ship_transfer(*, transfer: Transfer, actor=None) -> Transfer:
    """Stock leaves the source: a transfer-out row per line."""
    transfer = _move_transfer(transfer, Transfer.Status.IN_TRANSIT)
    record_movements(
        [
            MovementSpec(
                line.sku_id,
                transfer.source_id,
                StockMovement.Kind.TRANSFER_OUT,
                -line.quantity,
                reference=f"transfer:{transfer.public_id}",
            )
            for line in transfer.lines.all()
        ],
        actor=actor,
    )
    transfer.shipped_at = timezone.now()
    transfer.save(update_fields=["status", "shipped_at"])
    return transfer


@transaction.atomic
def receive_transfer(
    *, transfer: Transfer, received: dict[int, int] | None = None, actor=None
) -> Transfer:
    """Stock arrives: a transfer-in row per line for what was received (all, by default).

    ``received`` maps SKU ids to the quantities found on arrival; a shortfall stays visible on
    the line (quantity vs received quantity)."""
    transfer = _move_transfer(transfer, Transfer.Status.RECEIVED)
    lines = list(transfer.lines.all())
    received = received or {}
    unknown = set(received) - {line.sku_id for line in lines}
    if unknown:
        raise InvalidRequest("Received SKUs that are not on the transfer.")
    for line in lines:
        line.received_quantity = received.get(line.sku_id, line.quantity)
        if not 0 <= line.received_quantity <= line.quantity:
            raise InvalidRequest("A received quantity must be between 0 and what was shipped.")
    TransferLine.objects.bulk_update(lines, ["received_quantity"])
    record_movements(
        [
            MovementSpec(
                line.sku_id,
                transfer.destination_id,
                StockMovement.Kind.TRANSFER_IN,
                line.received_quantity,
                reference=f"transfer:{transfer.public_id}",
            )
            for line in lines
            if line.received_quantity
        ],
        actor=actor,
    )
    transfer.received_at = timezone.now()
    transfer.save(update_fields=["status", "received_at"])
    return transfer


@transaction.atomic
def cancel_transfer(*, transfer: Transfer) -> Transfer:
    transfer = _move_transfer(transfer, Transfer.Status.CANCELLED)
    transfer.save(update_fields=["status"])
    return transfer


# --- Cycle counts ----------------------------------------------------------------------------


@transaction.atomic
def record_cycle_count(
    *,
    location: Location,
    counts: dict[Sku, int],
    actor=None,
    source: str = "clerk",
    note: str = "",
) -> CycleCount:
    """What was counted becomes the truth: each difference is a cycle-count ledger row."""
    if not counts:
        raise InvalidRequest("A count needs at least one line.")
    if any(counted < 0 for counted in counts.values()):
        raise InvalidRequest("A counted quantity cannot be negative.")
    _require_active_skus(counts)
    ids = ensure_levels((sku.pk, location.pk) for sku in counts)
    levels = lock_levels(ids.values())
    count = CycleCount.objects.create(location=location, counted_by=actor, source=source, note=note)
    lines = [
        CycleCountLine(
            count=count,
            sku=sku,
            counted=counted,
            expected=levels[ids[(sku.pk, location.pk)]].on_hand,
        )
        for sku, counted in counts.items()
    ]
    CycleCountLine.objects.bulk_create(lines)
    corrections = [
        StockMovement(
            level_id=ids[(line.sku.pk, location.pk)],
            kind=StockMovement.Kind.CYCLE_COUNT,
            quantity=line.difference,
            reference=f"count:{count.public_id}",
            actor=actor,
            source=source,
        )
        for line in lines
        if line.difference
    ]
    StockMovement.objects.bulk_create(corrections)
    _add_to_levels("on_hand", {m.level_id: m.quantity for m in corrections})
    return count


# --- Low-stock alerts ------------------------------------------------------------------------

# One statement, whatever the size of the catalogue: Django has no INSERT ... SELECT.
# "Available" below the reorder point; the partial unique index keeps one open alert per level.
_RAISE_ALERTS_SQL = """
INSERT INTO inventory_lowstockalert (level_id, available, reorder_point, raised_at)
SELECT level.id,
       CASE WHEN level.on_hand - level.reserved - level.safety_stock > 0
            THEN level.on_hand - level.reserved - level.safety_stock ELSE 0 END,
       level.reorder_point,
       %s
FROM inventory_stocklevel AS level
WHERE level.reorder_point > 0
  AND level.on_hand - level.reserved - level.safety_stock < level.reorder_point
ON CONFLICT (level_id) WHERE resolved_at IS NULL DO NOTHING
"""


def raise_low_stock_alerts(*, now: datetime | None = None) -> tuple[int, int]:
    """Open an alert for every level below its reorder point and close the alerts of levels
    that recovered; returns (raised, resolved). Run by a beat task."""
    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        recovered = LowStockAlert.objects.filter(resolved_at=None).filter(
            Q(level__reorder_point=0)
            | Q(
                level__on_hand__gte=F("level__reserved")
                + F("level__safety_stock")
                + F("level__reorder_point")
            )
        )
        resolved = recovered.update(resolved_at=now)
        cursor.execute(_RAISE_ALERTS_SQL, [now])
        raised = cursor.rowcount
    return raised, resolved
