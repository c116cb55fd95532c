"""Transfers between locations: requested, shipped (stock leaves the source), received (stock
arrives, possibly short) or cancelled, each step allowed by ``TRANSFER_TRANSITIONS`` only."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from inventory.locks import lock_transfer
from inventory.models import Location, Sku, StockMovement, Transfer, TransferLine
from inventory.services.ledger import MovementSpec, record_movements
from inventory.services.levels import require_active_skus
from omni.core.errors import InvalidRequest, InvalidTransition

TRANSFER_TRANSITIONS: dict[str, set[str]] = {
    Transfer.Status.REQUESTED: {Transfer.Status.IN_TRANSIT, Transfer.Status.CANCELLED},
    Transfer.Status.IN_TRANSIT: {Transfer.Status.RECEIVED},
    Transfer.Status.RECEIVED: set(),
    Transfer.Status.CANCELLED: set(),
}


def _move_transfer(transfer: Transfer, status: str) -> Transfer:
    locked = lock_transfer(transfer)
    if status not in TRANSFER_TRANSITIONS[locked.status]:
        raise InvalidTransition(
            f"A {locked.get_status_display().lower()} transfer cannot become "
            f"{Transfer.Status(status).label.lower()}.",
            details={"from": locked.status, "to": status},
        )
    locked.status = status
    return locked


@transaction.atomic
def request_transfer(
    *,
    source: Location,
    destination: Location,
    lines: dict[Sku, int],
    actor: User | None = None,
    note: str = "",
) -> Transfer:
    if source.pk == destination.pk:
        raise InvalidRequest("A transfer needs two different locations.")
    if not lines:
        raise InvalidRequest("A transfer needs at least one line.")
    if any(quantity <= 0 for quantity in lines.values()):
        raise InvalidRequest("Quantities must be positive.")
    require_active_skus(lines)
    transfer = Transfer.objects.create(
        source=source, destination=destination, requested_by=actor, note=note
    )
    TransferLine.objects.bulk_create(
        [TransferLine(transfer=transfer, sku=sku, quantity=q) for sku, q in lines.items()]
    )
    return transfer


@transaction.atomic
def ship_transfer(*, transfer: Transfer, actor: User | None = None) -> Transfer:
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
    *,
    transfer: Transfer,
    received: dict[int, int] | None = None,
    actor: User | None = None,
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
