"""The stock ledger: movements appended, on hand changed by the same amounts in the same
transaction, a retried movement (same idempotency key) replayed rather than recorded twice."""

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from inventory.locks import lock_levels
from inventory.models import Location, Sku, StockMovement
from inventory.services.levels import (
    add_to_levels,
    ensure_levels,
    raise_if_short,
    shortage,
)
from omni.core.errors import Conflict, InvalidRequest


@dataclass(frozen=True)
class MovementSpec:
    sku_id: int
    location_id: int
    kind: str
    quantity: int
    reason: str = ""
    reference: str = ""
    idempotency_key: str | None = None


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
    specs: list[MovementSpec], *, actor: User | None = None, source: str = ""
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
    raise_if_short(
        [
            shortage(levels[pk], -delta, levels[pk].on_hand - levels[pk].reserved)
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
    add_to_levels("on_hand", deltas)
    for movement in created:
        movement.replayed = False
    for movement in replays.values():
        movement.replayed = True
    fresh_iter = iter(created)
    return [
        replays[spec.idempotency_key] if spec.idempotency_key in replays else next(fresh_iter)
        for spec in specs
    ]


def _replayed_movements(specs: list[MovementSpec]) -> dict[str | None, StockMovement]:
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
    actor: User | None = None,
    source: str = "",
    idempotency_key: str | None = None,
) -> StockMovement:
    spec = MovementSpec(sku.pk, location.pk, kind, quantity, reason, reference, idempotency_key)
    return record_movements([spec], actor=actor, source=source)[0]
