"""After checkout: picking and handing over pick-ups, cancelling and expiring orders (delivery
orders are shipped by ``orders.services.shipping``)."""

import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from campaigns import services as campaigns
from customers.models import Customer
from inventory import services as inventory
from loyalty import services as loyalty
from omni.core.errors import InvalidRequest, PickupCodeLocked, WrongPickupCode
from orders import notifications
from orders.locks import lock_order, lock_order_if_still
from orders.models import Order
from orders.services import money
from orders.services.lifecycle import ensure_allowed, note_on_timeline, transition
from orders.services.points import earn_points
from orders.services.shipping import cancel_shipments

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
        note_on_timeline(
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
    note_on_timeline(order, actor=actor, note=f"Pick-up code unlocked after {failures} wrong codes")
    return order


def _hand_over(order: Order, *, actor: User | None) -> Order:
    transition(order, S.COLLECTED, actor=actor)
    inventory.consume_reservations(
        reference=order.reservation_reference, actor=actor, reason="Collected in store"
    )
    money.capture(order)
    earn_points(order)
    if order.customer is not None:
        loyalty.award_bonus(
            customer=order.customer,
            action="first_pickup",
            idempotency_key=f"first-pickup:{order.customer.public_id}",
            reference=order.number,
        )
    return order


def _undo_checkout(order: Order) -> None:
    """Put back stock, points, coupon uses and the payment hold of an order that will not be
    fulfilled."""
    inventory.release_reservations(reference=order.reservation_reference)
    cancel_shipments(order)
    if order.points_redeemed:
        loyalty.release_redemption(redemption_key=f"order:{order.number}:redeem")
    campaigns.release_redemptions(reference=order.number)
    money.void(order)


@transaction.atomic
def cancel_order(
    *,
    order: Order,
    actor: User | None = None,
    by_customer: Customer | None = None,
    note: str = "",
) -> Order:
    """Staff may cancel until the goods leave; a customer a pick-up only before it is ready
    (after that it is already picked and waiting on a shelf), a delivery until a parcel has
    shipped (after that it is a return). Stock, points and the payment hold come back."""
    order = lock_order(order)
    if by_customer is not None:
        if order.customer_id != by_customer.pk:
            raise InvalidRequest("This is not your order.")
        _ensure_customer_may_cancel(order)
    transition(order, S.CANCELLED, actor=actor, label="customer" if by_customer else "", note=note)
    _undo_checkout(order)
    return order


# What a customer is told when their order can no longer be cancelled, by where it stands.
_WHY_NOT_CANCELLABLE: dict[str, str] = {
    S.READY_FOR_PICKUP: "The order is ready for pick-up: ask the store to cancel it.",
    S.PARTLY_SHIPPED: "Part of the order has already shipped: return it once it is delivered.",
    S.SHIPPED: "The order has shipped: return it once it is delivered.",
    S.DELIVERED: "The order was delivered: return the items instead.",
    S.COLLECTED: "The order was collected: return the items instead.",
    S.COMPLETED: "The order was bought in store: return the items instead.",
    S.CANCELLED: "The order is already cancelled.",
    S.EXPIRED: "The order expired uncollected: it is already cancelled.",
}
CUSTOMER_CANCELLABLE: dict[str, set[str]] = {
    Order.Fulfilment.PICKUP: {S.PLACED},
    Order.Fulfilment.DELIVERY: {S.PLACED, S.ALLOCATED},
    Order.Fulfilment.IN_STORE: set(),
}


def _ensure_customer_may_cancel(order: Order) -> None:
    if order.status in CUSTOMER_CANCELLABLE[order.fulfilment]:
        return
    message = _WHY_NOT_CANCELLABLE.get(
        order.status, f"The order is {order.get_status_display().lower()}: it cannot be cancelled."
    )
    raise InvalidRequest(message, details={"status": order.status})


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
