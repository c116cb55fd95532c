"""Stock sync from point-of-sale and warehouse systems: a batch of movements recorded whole,
each row told apart as newly recorded or a replay, with the on hand it leaves."""

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from inventory import selectors, services
from inventory.services import MovementSpec


@dataclass(frozen=True)
class SyncedMovement:
    index: int
    idempotency_key: str | None  # the API requires one on every row
    sku: str
    location: str
    status: str  # "recorded" or "replayed"
    on_hand: int


@dataclass(frozen=True)
class SyncReport:
    source: str
    movements: list[SyncedMovement]

    @property
    def recorded(self) -> int:
        return sum(m.status == "recorded" for m in self.movements)

    @property
    def replayed(self) -> int:
        return len(self.movements) - self.recorded


@transaction.atomic
def sync_movements(
    *, specs: list[MovementSpec], source: str, actor: User | None = None
) -> SyncReport:
    """Record a batch with ``services.record_movements`` (all or nothing; known keys replay)
    and report, per row, whether it was new and the level's on hand afterwards.

    Every spec carries an idempotency key: that is what makes a sync safe to retry, also
    while the first attempt is still running (the service locks before it reads the keys).
    """
    movements = services.record_movements(specs, actor=actor, source=source)
    levels = selectors.stock_on_hand(movement.level_id for movement in movements)
    return SyncReport(
        source=source,
        movements=[
            SyncedMovement(
                index=index,
                idempotency_key=spec.idempotency_key,
                sku=levels[movement.level_id]["sku_code"],
                location=levels[movement.level_id]["location_code"],
                status="replayed" if movement.replayed else "recorded",
                on_hand=levels[movement.level_id]["on_hand"],
            )
            for index, (spec, movement) in enumerate(zip(specs, movements, strict=True))
        ],
    )
