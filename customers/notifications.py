"""Messages to customers from every app: one outbox (``Notification``), consent rules, delivery
after commit through a Celery task, and the channel backends chosen in settings.

How to send something (``orders`` for a pick-up, ``loyalty`` for expiring points)::

    from customers.notifications import notify

    notify(
        customer=order.customer,
        topic="orders.ready_for_pickup",
        channel="email",
        kind="transactional",
        subject="Your order is ready",
        body="...",
        context={"order": order.number},
        idempotency_key=f"order-ready:{order.number}",
    )

Rules, decided when the message is recorded and checked again just before it leaves:

* **Marketing** needs the customer's current consent for that channel and purpose
  (``may_contact``); without it the row is kept as ``suppressed`` / ``no_consent``.
* **Transactional** messages (the customer's own order, pick-up, points) need no marketing
  consent, but are never sent to an erased customer (``erased``) or to a channel the customer
  has no address for (``no_address``: no e-mail, no phone, no app device).
* Nothing leaves inside a transaction: the task is sent by ``transaction.on_commit``, so a
  rolled-back order or run sends nothing. The same idempotency key always gives the first row.

Backends: ``settings.NOTIFICATION_BACKENDS`` maps each channel to a class with
``send(message: OutgoingMessage) -> None`` that raises on failure (the task retries); SMS and
push are set by ``NOTIFICATION_SMS_BACKEND`` and ``NOTIFICATION_PUSH_BACKEND``.

Logs never hold personal data: a line names the notification by id, with its channel and
topic, never its address, subject, body or context (a pick-up code). A backend's error may
repeat the address, so only its type is logged or raised; the full text stays on the row
(``last_error``, cleared by erasure) for staff.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from customers.locks import lock_notification
from customers.models import ConsentPurpose, Customer, Identity, Notification
from customers.selectors import may_contact
from customers.services import register_erasure_handler
from omni.core.errors import InvalidInput

logger = logging.getLogger(__name__)
# A queued message with no delivery attempt after this long lost its task on the way.
STRANDED_AFTER = timedelta(minutes=5)

Kind = Notification.Kind
Status = Notification.Status
Reason = Notification.SuppressionReason


class DeliveryFailed(Exception):
    """A backend could not send the message; the task retries it later."""


@dataclass(frozen=True)
class OutgoingMessage:
    """What a backend gets: everything needed to send, nothing to look up."""

    notification_id: int
    channel: str
    recipient: str
    topic: str
    subject: str
    body: str
    context: dict[str, Any] = field(default_factory=dict)


class NotificationBackend(Protocol):
    def send(self, message: OutgoingMessage) -> None:
        """Send the message or raise; whatever it raises is recorded and retried."""


class EmailBackend:
    """E-mail through Django's mail backend (``EMAIL_BACKEND``: SMTP, console, or the tests'
    in-memory ``mail.outbox``)."""

    def send(self, message: OutgoingMessage) -> None:
        send_mail(
            subject=message.subject,
            message=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[message.recipient],
            fail_silently=False,
        )


class ConsoleBackend:
    """Sends nothing and logs that a message was due, by id: SMS and push in the demo and the
    tests. A provider (an SMS gateway, FCM/APNs) plugs in as another class with ``send``."""

    def send(self, message: OutgoingMessage) -> None:
        logger.info(
            "Notification %s (%s, %s) not sent: no %s provider is configured.",
            message.notification_id,
            message.channel,
            message.topic,
            message.channel,
        )


def backend_for(channel: str) -> NotificationBackend:
    return import_string(settings.NOTIFICATION_BACKENDS[channel])()


# --- Recording ------------------------------------------------------------------------------


def address_for(customer: Customer, channel: str) -> str:
    """Where ``channel`` reaches the customer, or "" when it cannot."""
    if channel == Notification.Channel.EMAIL:
        return customer.email
    if channel == Notification.Channel.SMS:
        return customer.phone
    # Push goes to the app install the customer used last.
    device = (
        customer.identities.filter(kind=Identity.Kind.DEVICE)
        .order_by("-created_at", "-pk")
        .values_list("value", flat=True)
        .first()
    )
    return device or ""


def suppression_reason(
    customer: Customer, *, channel: str, kind: str, purpose: str
) -> tuple[str, str]:
    """(reason, "") when the message must not go, else ("", the address to send to)."""
    if customer.erased_at is not None:
        return Reason.ERASED, ""
    address = address_for(customer, channel)
    if not address:
        return Reason.NO_ADDRESS, ""
    if kind == Kind.MARKETING and not may_contact(customer, channel, purpose):
        return Reason.NO_CONSENT, ""
    return "", address


def _check_terms(*, channel: str, kind: str, purpose: str, body: str, idempotency_key: str) -> None:
    errors = {}
    if channel not in Notification.Channel.values or channel not in settings.NOTIFICATION_BACKENDS:
        errors["channel"] = [f"Expected one of {', '.join(settings.NOTIFICATION_BACKENDS)}."]
    if kind not in Kind.values:
        errors["kind"] = [f"Expected one of {', '.join(Kind.values)}."]
    if kind == Kind.MARKETING and purpose not in ConsentPurpose.values:
        errors["purpose"] = [f"Expected one of {', '.join(ConsentPurpose.values)}."]
    if not body.strip():
        errors["body"] = ["A message needs a body."]
    if not idempotency_key:
        errors["idempotency_key"] = ["A notification needs an idempotency key."]
    if errors:
        raise InvalidInput("The notification cannot be sent as asked.", details=errors)


def notify(
    *,
    customer: Customer,
    topic: str,
    channel: str,
    kind: str,
    body: str,
    idempotency_key: str,
    subject: str = "",
    context: dict[str, Any] | None = None,
    purpose: str = ConsentPurpose.MARKETING,
) -> Notification:
    """Record a message in the outbox and send it once the surrounding transaction commits.

    Returns the row: ``queued`` (delivery follows), or ``suppressed`` with its reason. A key
    already used returns its first row unchanged, whatever else was passed. ``purpose`` is
    the consent a marketing message needs; transactional messages ignore it.
    """
    _check_terms(
        channel=channel, kind=kind, purpose=purpose, body=body, idempotency_key=idempotency_key
    )
    existing = _notification_for(idempotency_key)
    if existing:
        return existing
    reason, _ = suppression_reason(customer, channel=channel, kind=kind, purpose=purpose)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                customer=customer,
                topic=topic,
                channel=channel,
                kind=kind,
                purpose=purpose if kind == Kind.MARKETING else "",
                subject=subject,
                body=body,
                context=context or {},
                status=Status.SUPPRESSED if reason else Status.QUEUED,
                suppression_reason=reason,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # A concurrent call with the same key committed first: its row is the answer. (No lock
        # to wait on before the insert, as in ``omni.core.replay``: the unique key decides.)
        existing = _notification_for(idempotency_key)
        if existing is None:
            raise
        return existing
    if reason:
        logger.info("Suppressed %s for customer %s: %s", topic, customer.pk, reason)
    else:
        # robust: a broker that is down must not fail the caller's committed work; the row
        # stays queued, the error is logged.
        transaction.on_commit(lambda: _enqueue(notification.pk), robust=True)
    return notification


def _notification_for(idempotency_key: str) -> Notification | None:
    return Notification.objects.filter(idempotency_key=idempotency_key).first()


def _enqueue(notification_id: int) -> None:
    from customers.tasks import deliver_notification  # the task module imports this one

    deliver_notification.delay(notification_id)


def requeue_stranded(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Send again the tasks of messages that never got a delivery attempt (the broker was down
    when they were queued); returns how many. Delivery locks the row and skips anything no
    longer queued, so a message whose first task arrives late is still sent once."""
    now = now or timezone.now()
    stranded = Notification.objects.filter(
        status=Status.QUEUED, attempts=0, created_at__lte=now - STRANDED_AFTER
    ).values_list("pk", flat=True)[:limit]
    ids = list(stranded)
    for notification_id in ids:
        _enqueue(notification_id)
    return len(ids)


# --- Delivering -----------------------------------------------------------------------------


def deliver(*, notification_id: int, last_attempt: bool = True) -> str:
    """Send one queued message through its channel's backend; returns the row's status.

    The row is locked while it is sent, so a task delivered twice sends once (the second
    finds it no longer queued). Erasure, a lost address or withdrawn marketing consent since
    it was queued suppress it. A backend error is recorded and raised as ``DeliveryFailed``
    for the task to retry, unless this was the ``last_attempt``: then the row is ``failed``.
    """
    error = None
    with transaction.atomic():
        try:
            notification = lock_notification(notification_id)
        except Notification.DoesNotExist:
            logger.warning("Notification %s does not exist; nothing to deliver.", notification_id)
            return "missing"
        if notification.status != Status.QUEUED:
            return notification.status
        reason, address = suppression_reason(
            notification.customer,
            channel=notification.channel,
            kind=notification.kind,
            purpose=notification.purpose,
        )
        if reason:
            notification.status, notification.suppression_reason = Status.SUPPRESSED, reason
            notification.save(update_fields=["status", "suppression_reason"])
            return notification.status
        notification.attempts += 1
        notification.recipient = address
        try:
            backend_for(notification.channel).send(
                OutgoingMessage(
                    notification_id=notification.pk,
                    channel=notification.channel,
                    recipient=address,
                    topic=notification.topic,
                    subject=notification.subject,
                    body=notification.body,
                    context=notification.context,
                )
            )
        # Backends are pluggable (SMTP, HTTP providers), so any error they raise is a
        # failed attempt to record and retry, not a bug in this code.
        except Exception as raised:
            error = raised
            notification.last_error = f"{type(raised).__name__}: {raised}"[:500]
            if last_attempt:
                notification.status = Status.FAILED
        else:
            notification.status, notification.sent_at = Status.SENT, timezone.now()
            notification.last_error = ""
        notification.save(
            update_fields=["attempts", "recipient", "last_error", "status", "sent_at"]
        )
    if error is not None and not last_attempt:
        # Celery logs this on every retry: the type only, as the text may name the address.
        raise DeliveryFailed(f"Notification {notification.pk}: {type(error).__name__}") from None
    if error is not None:
        logger.error(
            "Notification %s failed after its last attempt (%s).",
            notification.pk,
            type(error).__name__,
        )
    return notification.status


# --- Erasure --------------------------------------------------------------------------------


@register_erasure_handler
def forget_notifications(*, customer: Customer) -> None:
    """On erasure, the outbox keeps that messages were sent (topic, channel, dates, status) but
    not what they said or where they went; anything still queued is suppressed."""
    notifications = Notification.objects.filter(customer=customer)
    notifications.filter(status=Status.QUEUED).update(
        status=Status.SUPPRESSED, suppression_reason=Reason.ERASED
    )
    notifications.update(recipient="", subject="", body="", context={}, last_error="")
