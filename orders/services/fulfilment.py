"""After checkout: picking, handing over, shipping, cancelling and expiring orders."""

import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from customers.models import Customer
from inventory import services as inventory
from loyalty import services as loyalty
from loyalty.models import PointsEntry
from loyalty.services import QuoteLine
from omni.core.errors import InvalidRequest, PickupCodeLocked, WrongPickupCode
from orders import notifications
from orders.locks import lock_order, lock_order_if_still, lock_shipment
from orders.models import Order, OrderEvent, Payment, Shipment
from orders.payments import payment_provider
from orders.services.lifecycle import actor_label, ensure_allowed, transition

S = Order.Status


def new_pickup_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


@transaction.atomic
def mark_ready_for_pickup(*, order: Order, actor: User | None = None) -> Order:
    """The clerk has picked it: the customer gets a pick-up code, and the hold clock starts."""
    order = lock_order(order)
    transition(order, S.READY_FOR_PICKUP, actor=actor)
    order.pickup_code = new_pickup_code()
    hold_days = order.fulfilling_store.pickup_hold_days
    order.pickup_expires_at = timezone.now() + timedelta(days=hold_days)
    order.save(update_fields=["pickup_code", "pickup_expires_at", "updated_at"])
    notifications.ready_for_pickup(order)
    return order


def collect_pickup(*, order: Order, code: str, actor: User | None = None) -> Order:
    """Hand-over at the counter after checking the code: stock leaves through the ledger,
    the payment is captured and the customer earns points.

    A wrong code is refused, and counted on the order in the same locked transaction, which
    commits before the refusal is raised: the count holds although nothing else changes. After
    ``PICKUP_CODE_MAX_ATTEMPTS`` wrong codes the hand-over is locked, the right code included,
    until a manager calls ``unlock_pickup_code``. (The count survives only if the caller has no
    transaction of its own that it rolls back: the clerk page and the admin have none.)"""
    with transaction.atomic():
        order = lock_order(order)
        ensure_allowed(order, S.COLLECTED)
        ensure_pickup_code_unlocked(order)
        if not hmac.compare_digest(order.pickup_code, (code or "").strip()):
            refusal = _count_wrong_pickup_code(order, actor=actor)
        else:
            return _hand_over(order, actor=actor)
    raise refusal


def pickup_code_attempts_left(order: Order) -> int:
    return max(settings.PICKUP_CODE_MAX_ATTEMPTS - order.pickup_code_failures, 0)


def ensure_pickup_code_unlocked(order: Order) -> None:
    if pickup_code_attempts_left(order) == 0:
        raise PickupCodeLocked(
            f"The hand-over of {order.number} is locked after {order.pickup_code_failures} "
            "wrong pick-up codes: a manager must unlock it in the back-office (Orders → "
            "Unlock pick-up code).",
            details={"order": order.number, "failures": order.pickup_code_failures},
        )


def _count_wrong_pickup_code(order: Order, *, actor: User | None) -> WrongPickupCode:
    """Count a wrong code on the locked order; returns the refusal for the caller to raise once
    the count is committed. The try that reaches the limit locks, and says so."""
    order.pickup_code_failures += 1
    order.save(update_fields=["pickup_code_failures", "updated_at"])
    left = pickup_code_attempts_left(order)
    message = "That pick-up code does not match this order."
    if left == 0:
        message += (
            f" After {order.pickup_code_failures} wrong codes the hand-over is locked: "
            "a manager must unlock it in the back-office."
        )
        _note_on_timeline(
            order,
            actor=actor,
            note=f"Pick-up code locked after {order.pickup_code_failures} wrong codes",
        )
    return WrongPickupCode(message, details={"attempts_left": left})


@transaction.atomic
def unlock_pickup_code(*, order: Order, actor: User | None = None) -> Order:
    """A manager lets the hand-over be tried again (the customer keeps the same code, which was
    never shown to whoever guessed); recorded on the order's timeline."""
    order = lock_order(order)
    if order.pickup_code_failures < settings.PICKUP_CODE_MAX_ATTEMPTS:
        raise InvalidRequest(f"The pick-up code of {order.number} is not locked.")
    failures = order.pickup_code_failures
    order.pickup_code_failures = 0
    order.save(update_fields=["pickup_code_failures", "updated_at"])
    _note_on_timeline(
        order, actor=actor, note=f"Pick-up code unlocked after {failures} wrong codes"
    )
    return order


def _note_on_timeline(order: Order, *, actor: User | None, note: str) -> None:
    """Something that happened to the order without a change of status."""
    OrderEvent.objects.create(
        order=order,
        to_status=order.status,
        actor=actor if hasattr(actor, "get_username") else None,
        actor_label=actor_label(actor),
        note=note,
    )


def _hand_over(order: Order, *, actor: User | None) -> Order:
    transition(order, S.COLLECTED, actor=actor)
    inventory.consume_reservations(
        reference=order.reservation_reference, actor=actor, reason="Collected in store"
    )
    _capture(order)
    earn_points(order)
    if order.customer is not None:
        loyalty.award_bonus(
            customer=order.customer,
            action="first_pickup",
            idempotency_key=f"first-pickup:{order.customer.public_id}",
            reference=order.number,
        )
    return order


def earn_points(order: Order) -> PointsEntry | None:
    """Points for what the customer paid, pending until the return window has passed."""
    customer = order.customer
    if customer is None:
        return None
    lines = order.lines.select_related("sku__product")
    return loyalty.earn_for_order(
        customer=customer,
        reference=order.number,
        lines=[QuoteLine(line.paid, line.sku.product.category_id, line.sku.code) for line in lines],
        channel=order.channel,
        idempotency_key=f"order:{order.number}:earn",
    )


def _capture(order: Order) -> None:
    provider = payment_provider()
    for payment in order.payments.filter(status=Payment.Status.AUTHORIZED):
        provider.capture(payment_reference=payment.reference, amount=payment.amount)
        payment.status = Payment.Status.CAPTURED
        payment.save(update_fields=["status", "updated_at"])


def _undo_checkout(order: Order) -> None:
    """Put back stock, points and the payment hold of an order that will not be fulfilled."""
    inventory.release_reservations(reference=order.reservation_reference)
    for shipment in order.shipments.all():
        inventory.release_reservations(reference=shipment.reservation_reference)
    order.shipments.update(status=Shipment.Status.CANCELLED)
    if order.points_redeemed:
        loyalty.release_redemption(redemption_key=f"order:{order.number}:redeem")
    provider = payment_provider()
    for payment in order.payments.filter(status=Payment.Status.AUTHORIZED):
        provider.void(payment_reference=payment.reference)
        payment.status = Payment.Status.VOIDED
        payment.save(update_fields=["status", "updated_at"])


@transaction.atomic
def cancel_order(
    *,
    order: Order,
    actor: User | None = None,
    by_customer: Customer | None = None,
    note: str = "",
) -> Order:
    """Staff may cancel until the goods leave; a customer only before a pick-up is ready
    (after that it is already picked and waiting on a shelf)."""
    order = lock_order(order)
    if by_customer is not None:
        if order.customer_id != by_customer.pk:
            raise InvalidRequest("This is not your order.")
        if order.fulfilment == Order.Fulfilment.PICKUP and order.status != S.PLACED:
            raise InvalidRequest(
                "The order is ready for pick-up: ask the store to cancel it.",
                details={"status": order.status},
            )
    transition(order, S.CANCELLED, actor=actor, label="customer" if by_customer else "", note=note)
    _undo_checkout(order)
    return order


@transaction.atomic
def ship(
    *, shipment: Shipment, carrier: str, tracking_number: str, actor: User | None = None
) -> Shipment:
    """A parcel leaves its location: its reserved stock is consumed through the ledger. The
    order is shipped (and paid) when its last parcel leaves."""
    order = lock_order(shipment.order)
    shipment = lock_shipment(shipment)
    if shipment.status != Shipment.Status.ALLOCATED:
        raise InvalidRequest(f"This parcel is already {shipment.get_status_display().lower()}.")
    if not carrier.strip() or not tracking_number.strip():
        raise InvalidRequest("Give the carrier and the tracking number.")
    inventory.consume_reservations(
        reference=shipment.reservation_reference, actor=actor, reason=f"Shipped by {carrier}"
    )
    shipment.status = Shipment.Status.SHIPPED
    shipment.carrier, shipment.tracking_number = carrier, tracking_number
    shipment.shipped_at = timezone.now()
    shipment.save()
    if not order.shipments.filter(status=Shipment.Status.ALLOCATED).exists():
        transition(order, S.SHIPPED, actor=actor, note=f"{carrier} {tracking_number}")
        _capture(order)
        notifications.shipped(order, carrier, tracking_number)
    return shipment


@transaction.atomic
def mark_delivered(*, order: Order, actor: User | None = None) -> Order:
    order = lock_order(order)
    transition(order, S.DELIVERED, actor=actor)
    order.shipments.filter(status=Shipment.Status.SHIPPED).update(
        status=Shipment.Status.DELIVERED, delivered_at=timezone.now()
    )
    earn_points(order)
    return order


# --- Scheduled: reminders and expiry of uncollected pick-ups ---------------------------------

REMIND_BEFORE = timedelta(days=1)


def pickups_to_remind(now: datetime) -> QuerySet[Order]:
    return Order.objects.filter(
        status=S.READY_FOR_PICKUP,
        pickup_reminder_sent_at=None,
        pickup_expires_at__lte=now + REMIND_BEFORE,
        pickup_expires_at__gt=now,
    )


def send_pickup_reminders(*, now: datetime | None = None) -> list[Order]:
    """A day before a pick-up expires, remind the customer once (each order in its own short
    transaction, so an interrupted run resumes where it stopped)."""
    now = now or timezone.now()
    reminded = []
    for pk in pickups_to_remind(now).values_list("pk", flat=True):
        with transaction.atomic():
            order = lock_order_if_still(pickups_to_remind(now), pk)
            if order is None:
                continue  # reminded meanwhile by another run
            order.pickup_reminder_sent_at = now
            order.save(update_fields=["pickup_reminder_sent_at", "updated_at"])
            notifications.pickup_reminder(order)
            reminded.append(order)
    return reminded


def expire_uncollected_pickups(*, now: datetime | None = None) -> list[Order]:
    """Pick-ups not collected in time are expired and their stock, points and payment hold
    released; an order already expired by an earlier (interrupted) run is left alone."""
    now = now or timezone.now()
    due = Order.objects.filter(status=S.READY_FOR_PICKUP, pickup_expires_at__lte=now)
    expired = []
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            order = lock_order_if_still(due, pk)
            if order is None:
                continue
            transition(order, S.EXPIRED, label="system", note="Not collected in time")
            _undo_checkout(order)
            notifications.pickup_expired(order)
            expired.append(order)
    return expired
