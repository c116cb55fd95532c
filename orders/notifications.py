"""What orders tell the customer, through the one notification service (customers app).

All of these are transactional: they concern an order the customer placed, so they need no
marketing consent (but nothing goes to an erased customer). E-mail when the customer has an
address, otherwise SMS. Each message has an idempotency key, so a retried step never sends
twice; delivery happens after the surrounding transaction commits.
"""

from datetime import datetime

from django.utils import formats

from customers.models import Customer, Notification
from customers.notifications import notify
from orders.models import Order


def _channel(customer: Customer) -> str:
    if customer.email:
        return Notification.Channel.EMAIL
    return Notification.Channel.SMS


def _send(order: Order, topic: str, subject: str, body: str, **context: str) -> None:
    customer = order.customer
    if customer is None or customer.erased_at:
        return  # guests leave no address at checkout; the erased are never written to
    notify(
        customer=customer,
        topic=f"orders.{topic}",
        channel=_channel(customer),
        kind=Notification.Kind.TRANSACTIONAL,
        subject=subject,
        body=body,
        context={"order": order.number, **context},
        idempotency_key=f"order-{topic}:{order.number}",
    )


def _when(moment: datetime) -> str:
    return formats.date_format(moment, "l j F, H:i")


def _collect_by(order: Order) -> datetime:
    """Until when a ready pick-up waits (set when it became ready)."""
    if order.pickup_expires_at is None:
        raise ValueError(f"Order {order.number} is not waiting to be collected.")
    return order.pickup_expires_at


def order_placed(order: Order) -> None:
    where = f"to collect at {order.store.name}" if order.store else "for delivery"
    _send(
        order,
        "placed",
        f"Order {order.number} received",
        f"Thank you! Your order {order.number} ({order.total} {order.currency}) is placed "
        f"{where}. We will tell you when it is ready.",
    )


def ready_for_pickup(order: Order) -> None:
    store, until = order.fulfilling_store, _collect_by(order)
    _send(
        order,
        "ready_for_pickup",
        f"Order {order.number} is ready at {store.name}",
        f"Your order {order.number} is waiting at {store.name}. Show this code at the "
        f"counter: {order.pickup_code} (or its QR code in the app). We keep it for you until "
        f"{_when(until)}.",
        store=store.code,
        pickup_code=order.pickup_code,
        expires_at=until.isoformat(),
    )


def pickup_reminder(order: Order) -> None:
    store, until = order.fulfilling_store, _collect_by(order)
    _send(
        order,
        "pickup_reminder",
        f"Reminder: order {order.number} is waiting at {store.name}",
        f"Your order {order.number} is still waiting at {store.name}, until "
        f"{_when(until)}. Pick-up code: {order.pickup_code}.",
    )


def pickup_expired(order: Order) -> None:
    _send(
        order,
        "expired",
        f"Order {order.number} was not collected",
        f"Your order {order.number} was not collected in time, so we cancelled it. Nothing "
        "was charged, and any points you used are back in your account.",
    )


def cancelled(order: Order) -> None:
    _send(
        order,
        "cancelled",
        f"Order {order.number} is cancelled",
        f"Your order {order.number} is cancelled. Nothing was charged, and any points you "
        "used are back in your account.",
    )


def shipped(order: Order, carrier: str, tracking_number: str) -> None:
    _send(
        order,
        "shipped",
        f"Order {order.number} is on its way",
        f"Your order {order.number} has left us with {carrier}: tracking number {tracking_number}.",
        carrier=carrier,
        tracking_number=tracking_number,
    )
