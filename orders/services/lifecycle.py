"""The one place that says which order statuses may follow which, and records each move."""

from django.contrib.auth.models import User

from omni.core.errors import InvalidTransition
from orders.models import Order, OrderEvent

S = Order.Status
F = Order.Fulfilment

TRANSITIONS: dict[str, dict[str, set[str]]] = {
    F.PICKUP: {
        S.PLACED: {S.READY_FOR_PICKUP, S.CANCELLED},
        S.READY_FOR_PICKUP: {S.COLLECTED, S.CANCELLED, S.EXPIRED},
    },
    F.DELIVERY: {
        S.PLACED: {S.ALLOCATED, S.CANCELLED},
        S.ALLOCATED: {S.PARTLY_SHIPPED, S.SHIPPED, S.CANCELLED},
        S.PARTLY_SHIPPED: {S.SHIPPED},
        S.SHIPPED: {S.DELIVERED},
    },
    F.IN_STORE: {S.PLACED: {S.COMPLETED}},
}


def actor_label(actor: User | None) -> str:
    if actor is None:
        return "system"
    return f"staff:{actor.get_username()}" if hasattr(actor, "get_username") else str(actor)


def ensure_allowed(order: Order, to: str) -> None:
    """Refuse, with a clear error, a move the order's fulfilment does not allow from here."""
    if to not in TRANSITIONS[order.fulfilment].get(order.status, set()):
        raise InvalidTransition(
            f"Order {order.number} is {order.get_status_display().lower()}: it cannot become "
            f"{Order.Status(to).label.lower()}.",
            details={"from": order.status, "to": to, "order": order.number},
        )


def note_on_timeline(order: Order, *, actor: User | None, note: str) -> None:
    """Something that happened to the order without a change of status."""
    OrderEvent.objects.create(
        order=order,
        to_status=order.status,
        actor=actor if hasattr(actor, "get_username") else None,
        actor_label=actor_label(actor),
        note=note[:255],
    )


def transition(
    order: Order, to: str, *, actor: User | None = None, label: str = "", note: str = ""
) -> Order:
    """Move a locked order to ``to`` if its fulfilment allows it, with a timeline event."""
    ensure_allowed(order, to)
    OrderEvent.objects.create(
        order=order,
        from_status=order.status,
        to_status=to,
        actor=actor if hasattr(actor, "get_username") else None,
        actor_label=label or actor_label(actor),
        note=note,
    )
    order.status = to
    order.save(update_fields=["status", "updated_at"])
    return order
