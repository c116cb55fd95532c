"""Sales in store: a clerk's sale takes the stock off the shelf at once."""

from django.contrib.auth.models import User
from django.db import transaction

from inventory.models import Location, Sku, StockMovement
from inventory.services.ledger import MovementSpec, record_movements
from omni.core.errors import InvalidRequest


@transaction.atomic
def sell_in_store(
    *,
    location: Location,
    lines: dict[Sku, int],
    reference: str,
    actor: User | None = None,
) -> list[StockMovement]:
    """A clerk's sale: stock leaves at once. It may use the safety stock, never others' reserved."""
    specs = [
        MovementSpec(sku.pk, location.pk, StockMovement.Kind.SALE, -quantity, reference=reference)
        for sku, quantity in lines.items()
    ]
    if any(quantity <= 0 for quantity in lines.values()):
        raise InvalidRequest("Quantities must be positive.")
    return record_movements(specs, actor=actor, source="store")
