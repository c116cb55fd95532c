"""What orders tell the customer, through the one notification service (customers app).

All of these are transactional: they concern an order the customer placed, so they need no
marketing consent (but nothing goes to an erased customer). E-mail when the customer has an
address, otherwise SMS. Each message has an idempotency key, so a retried step never sends
twice; delivery happens after the surrounding transaction commits.
"""

from datetime import datetime
from decimal import Decimal

from django.utils import formats

from customers.models import Customer, Notification
from customers.notifications import notify
from loyalty.models import StoredValueCard
from orders.models import Order, OrderLine, Parcel


def _channel(customer: Customer) -> str:
    if customer.email:
        return Notification.Channel.EMAIL
    return Notification.Channel.SMS


def _send(
    order: Order, topic: str, subject: str, body: str, *, once_per: str = "", **context: str
) -> None:
    """Tell the order's customer, once per order and topic (and ``once_per``, for what happens
    more than once to an order, such as each parcel)."""
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
        idempotency_key=f"order-{topic}:{order.number}" + (f":{once_per}" if once_per else ""),
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


def parcel_shipped(parcel: Parcel, *, order: Order) -> None:
    """Each parcel, with its carrier and the link to follow it."""
    follow = f" Follow it: {parcel.tracking_url}" if parcel.tracking_url else ""
    contents = ", ".join(
        f"{item.quantity} x {item.shipment_line.order_line.sku.product.name}"
        for item in parcel.lines.select_related("shipment_line__order_line__sku__product")
    )
    _send(
        order,
        "parcel_shipped",
        f"Order {order.number}: a parcel is on its way",
        f"A parcel of your order {order.number} ({contents}) has left us with "
        f"{parcel.carrier}, tracking number {parcel.tracking_number}.{follow}",
        once_per=str(parcel.public_id),
        carrier=parcel.carrier,
        tracking_number=parcel.tracking_number,
        tracking_url=parcel.tracking_url,
    )


def line_cancelled(
    order: Order, line: OrderLine, *, units: int, refund: Decimal, points: int
) -> None:
    """A line no location could ship: what was cancelled and what comes back."""
    back = f"{refund} {order.currency}" + (f" and {points} points" if points else "")
    _send(
        order,
        "line_cancelled",
        f"Order {order.number}: an item is no longer available",
        f"We are sorry: {units} x {line.sku.product.name} of your order {order.number} could "
        f"not be found in any of our stores or warehouses, so we cancelled it. {back} will "
        "come back to you; the rest of your order is on its way.",
        once_per=f"line:{line.pk}:{line.cancelled_quantity}",
        sku=line.sku.code,
        refund=str(refund),
    )


def gift_card_sent(card: "StoredValueCard", *, recipient: Customer, buyer: Customer | None) -> None:
    """The gift card's number to whoever it was bought for (transactional: they are told what
    was bought for them, whatever their marketing consents), once per card."""
    if recipient.erased_at:
        return
    sender = (buyer.first_name if buyer and buyer.first_name else "") or "Someone"
    body = (
        f"{sender} sent you a gift card worth {card.balance} {card.currency}.\n"
        f"Card number: {card.number}\n"
        "Show this number at the till, or add the card to your wallet in our app."
    )
    if card.gift_message:
        body += f"\n\n{card.gift_message}"
    notify(
        customer=recipient,
        topic="orders.gift_card",
        channel=Notification.Channel.EMAIL,
        kind=Notification.Kind.TRANSACTIONAL,
        subject="You received a gift card",
        body=body,
        context={"card": str(card.public_id)},
        idempotency_key=f"gift-card-sent:{card.public_id}",
    )
