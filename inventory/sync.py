"""Stock sync from point-of-sale and warehouse systems: a batch of movements recorded whole,
each row told apart as newly recorded or a replay, with the on hand it leaves.

A sale that names an order whose stock Omni reserves or already took is refused: that stock
leaves when its shipment is confirmed (or its pick-up collected), so a sale movement for it
would take it off twice."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from inventory import selectors, services
from inventory.models import StockMovement
from inventory.services import MovementSpec
from omni.core.errors import InvalidInput

SHIP_CONFIRMATION = "POST /api/v1/fulfilment/shipments/{id}/ship"


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
    A sale of an order's stock is refused, the whole batch with it (``order_sale_refusals``).
    """
    refusals = order_sale_refusals(specs)
    if refusals:
        raise InvalidInput(
            "The batch has sales of orders' stock; nothing was recorded.",
            details={
                "movements": {
                    str(index): {"reference": [message]} for index, message in refusals.items()
                }
            },
        )
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


def order_sale_refusals(specs: Sequence[MovementSpec | None]) -> dict[int, str]:
    """The rows (by index) that report a sale of an order's stock, each with what to send
    instead. A row is one when it is a sale whose reference names an order (its number, or an
    ``order:<number>...`` reservation reference) that holds stock reserved or taken by Omni:
    Omni takes that stock off itself when the shipment is confirmed, exactly once. One query,
    and none when no sale names anything that could be an order."""
    named = {
        index: number
        for index, spec in enumerate(specs)
        if spec is not None
        and spec.kind == StockMovement.Kind.SALE
        and (number := selectors.order_number_in(spec.reference)) is not None
    }
    holding = selectors.orders_holding_stock(named.values())
    return {
        index: (
            f"{number} is an order whose stock Omni reserves and takes off itself: send a ship "
            f"confirmation for its shipment ({SHIP_CONFIRMATION}, or per parcel), or hand its "
            "pick-up over in store, never a sale movement: its stock would be taken twice."
        )
        for index, number in named.items()
        if number in holding
    }
