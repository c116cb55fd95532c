"""Messages to customers from every app: one outbox (``Notification``), the rules that protect
the customer, delivery after commit through Celery tasks, and the channel backends chosen in
settings.

How to send something (``orders`` for a pick-up, ``loyalty`` for expiring points, ``campaigns``
for a campaign)::

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

Marketing messages add ``html_body`` (e-mail), ``source`` (what produced them, e.g.
``"campaign:<uuid>"``) and, for a scheduled send, ``not_before``. Push: ``subject`` is the title
and ``context["link"]`` the deep link. A large send passes ``enqueue=False`` and hands the
queued rows to ``deliver_in_batches`` (one task per ``NOTIFICATION_BATCH_SIZE`` rows).

Rules (``respect.judge``), decided when the message is recorded and checked again, under lock,
just before it leaves — one place for every message of every app:

* Nothing goes to an erased customer (``erased``) or to a channel the customer has no address
  for (``no_address``: no e-mail, no phone, no app device).
* **Marketing** needs the customer's current consent for that channel and purpose
  (``no_consent``); its address must not be on the suppression list (``suppressed``); the
  frequency caps set by staff hold across every campaign and app (``capped``); in quiet hours
  of the customer's time zone it waits (``waiting`` / ``quiet_hours``) until they end, and a
  scheduled one waits for its time (``waiting`` / ``scheduled``). Marketing e-mail carries
  one-click unsubscribe headers.
* **Transactional** messages (the customer's own order, pick-up, points) are exempt from
  consent, caps, quiet hours and the suppression list; each row says which rules applied
  (``respect``).
* Every message not sent is kept with its reason. Nothing leaves inside a transaction: tasks
  are sent by ``transaction.on_commit``, so a rolled-back order or run sends nothing. The
  same idempotency key always gives the first row.

Delivery locks the row (and, for marketing, the customer, so caps hold between two workers)
and sends only a row still ``queued``: a retried task, a redelivered one or a second worker
never sends a message twice. A failed attempt is retried with growing pauses
(``NOTIFICATION_RETRY_BACKOFF_SECONDS`` doubled each time) up to ``NOTIFICATION_MAX_ATTEMPTS``,
then the row is ``failed``. Waiting rows are released by a beat task, in batches.

Backends: ``settings.NOTIFICATION_BACKENDS`` maps each channel to a class with
``send(message: OutgoingMessage) -> str | None`` (see ``backends``); SMS and push are set by
``NOTIFICATION_SMS_BACKEND`` and ``NOTIFICATION_PUSH_BACKEND``.

Logs never hold personal data: a line names the notification by id, with its channel and
topic, never its address, subject, body or context (a pick-up code). A backend's error may
repeat the address, so only its type is logged or raised; the full text stays on the row
(``last_error``, cleared by erasure) for staff.
"""

import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID, uuid4

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from customers.locks import lock_customers, lock_notifications, lock_waiting_notifications
from customers.models import (
    ConsentPurpose,
    Customer,
    Notification,
    SuppressedAddress,
)
from customers.notifications.backends import (
    AddressRejected,
    ConsoleBackend,
    DeliveryFailed,
    EmailBackend,
    MemoryBackend,
    NotificationBackend,
    OutgoingMessage,
    backend_for,
)
from customers.notifications.links import (
    open_pixel_url,
    record_click,
    record_open,
    tracked_link,
    unsubscribe,
    unsubscribe_headers,
    unsubscribe_url,
)
from customers.notifications.respect import (
    Candidate,
    Verdict,
    address_for,
    judge,
    register_store_time_zones,
    respect_note,
    suppress_address,
)
from customers.services import register_erasure_handler
from omni.core.errors import InvalidInput

__all__ = [
    "AddressRejected",
    "ConsoleBackend",
    "DeliveryFailed",
    "EmailBackend",
    "MemoryBackend",
    "Message",
    "NotificationBackend",
    "OutgoingMessage",
    "address_for",
    "backend_for",
    "deliver",
    "deliver_in_batches",
    "deliver_many",
    "notify",
    "notify_many",
    "open_pixel_url",
    "record_click",
    "record_open",
    "register_store_time_zones",
    "release_waiting",
    "requeue_stranded",
    "suppress_address",
    "tracked_link",
    "unsubscribe",
    "unsubscribe_url",
    "withdraw",
]

logger = logging.getLogger(__name__)
# A queued message with no delivery attempt after this long lost its task on the way.
STRANDED_AFTER = timedelta(minutes=5)

Kind = Notification.Kind
Status = Notification.Status
Reason = Notification.SuppressionReason


# --- Recording ------------------------------------------------------------------------------


def _check_terms(
    *, channel: str, kind: str, purpose: str, body: str, idempotency_key: str, source: str
) -> None:
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
    if len(source) > Notification._meta.get_field("source").max_length:  # type: ignore[operator]
        errors["source"] = ["At most 100 characters, e.g. campaign:<uuid>."]
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
    html_body: str = "",
    source: str = "",
    not_before: datetime | None = None,
    public_id: UUID | None = None,
    enqueue: bool = True,
) -> Notification:
    """Record a message in the outbox and send it once the surrounding transaction commits.

    Returns the row: ``queued`` (delivery follows), ``waiting`` (quiet hours, or
    ``not_before`` in the future: released when its time comes), or ``suppressed`` with its
    reason. A key already used returns its first row unchanged, whatever else was passed.
    ``purpose`` is the consent a marketing message needs; transactional messages ignore it
    and are exempt from every marketing rule (see the module's docstring). With
    ``enqueue=False`` no task is sent: the caller delivers the queued rows in batches
    (``deliver_in_batches``). ``public_id`` (optional) is the id the row gets, for a body
    whose tracked links and pixel were made before it (``tracked_link(public_id, url)``).
    """
    _check_terms(
        channel=channel,
        kind=kind,
        purpose=purpose,
        body=body,
        idempotency_key=idempotency_key,
        source=source,
    )
    existing = _notification_for(idempotency_key)
    if existing:
        return existing
    purpose = purpose if kind == Kind.MARKETING else ""
    (verdict,) = judge(
        [Candidate(customer, channel, kind, purpose, not_before=not_before)], now=timezone.now()
    )
    try:
        with transaction.atomic():
            notification = _row(
                Message(
                    customer=customer,
                    topic=topic,
                    channel=channel,
                    kind=kind,
                    body=body,
                    idempotency_key=idempotency_key,
                    subject=subject,
                    context=context or {},
                    purpose=purpose,
                    html_body=html_body,
                    source=source,
                    public_id=public_id,
                ),
                verdict,
            )
            notification.save(force_insert=True)
    except IntegrityError:
        # A concurrent call with the same key committed first: its row is the answer. (No lock
        # to wait on before the insert, as in ``omni.core.replay``: the unique key decides.)
        existing = _notification_for(idempotency_key)
        if existing is None:
            raise
        return existing
    if verdict.status == Status.SUPPRESSED:
        logger.info("Suppressed %s for customer %s: %s", topic, customer.pk, verdict.reason)
    elif verdict.status == Status.QUEUED and enqueue:
        # robust: a broker that is down must not fail the caller's committed work; the row
        # stays queued, the error is logged.
        transaction.on_commit(partial(_enqueue, notification.pk), robust=True)
    return notification


@dataclass(frozen=True)
class Message:
    """One message for ``notify_many``: the arguments of ``notify``."""

    customer: Customer
    topic: str
    channel: str
    kind: str
    body: str
    idempotency_key: str
    subject: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    purpose: str = ConsentPurpose.MARKETING
    html_body: str = ""
    source: str = ""
    not_before: datetime | None = None
    public_id: UUID | None = None


def notify_many(messages: Sequence[Message], *, enqueue: bool = True) -> list[Notification]:
    """``notify`` for many messages at once (a campaign's batch), in a fixed number of queries
    whatever their number: the same rules, judged together (a message earlier in the batch
    counts against the caps of the next ones to the same customer), one INSERT. Returns the
    rows in the order given; a key already used gives its first row. The queued rows are
    delivered in batches after commit (``deliver_in_batches``) unless ``enqueue`` is False.
    Bad input (an unknown channel, a key given twice) raises ``InvalidInput`` and records
    nothing."""
    for message in messages:
        _check_terms(
            channel=message.channel,
            kind=message.kind,
            purpose=message.purpose,
            body=message.body,
            idempotency_key=message.idempotency_key,
            source=message.source,
        )
    keys = [message.idempotency_key for message in messages]
    if len(set(keys)) != len(keys):
        raise InvalidInput(
            "The same idempotency key is given twice.",
            details={"idempotency_key": ["Give each message its own key."]},
        )
    existing = {n.idempotency_key: n for n in Notification.objects.filter(idempotency_key__in=keys)}
    new = [message for message in messages if message.idempotency_key not in existing]
    now = timezone.now()
    verdicts = judge(
        [
            Candidate(
                m.customer,
                m.channel,
                m.kind,
                m.purpose if m.kind == Kind.MARKETING else "",
                not_before=m.not_before,
            )
            for m in new
        ],
        now=now,
    )
    rows = [_row(message, verdict) for message, verdict in zip(new, verdicts, strict=True)]
    try:
        with transaction.atomic():
            Notification.objects.bulk_create(rows)
    except IntegrityError:
        # A concurrent run recorded some of these keys first: one at a time, each key's
        # first row wins (rare: the slow path).
        return [_notify_message(message, enqueue=enqueue) for message in messages]
    if enqueue:
        deliver_in_batches(row.pk for row in rows if row.status == Status.QUEUED)
    created = {row.idempotency_key: row for row in rows}
    return [existing.get(key) or created[key] for key in keys]


def _row(message: Message, verdict: Verdict) -> Notification:
    return Notification(
        customer=message.customer,
        topic=message.topic,
        source=message.source,
        channel=message.channel,
        kind=message.kind,
        purpose=message.purpose if message.kind == Kind.MARKETING else "",
        subject=message.subject,
        body=message.body,
        html_body=message.html_body,
        context=message.context,
        status=verdict.status,
        suppression_reason=verdict.reason,
        send_after=verdict.send_after,
        respect=respect_note(message.kind),
        idempotency_key=message.idempotency_key,
        public_id=message.public_id or uuid4(),
    )


def _notify_message(message: Message, *, enqueue: bool) -> Notification:
    return notify(
        customer=message.customer,
        topic=message.topic,
        channel=message.channel,
        kind=message.kind,
        body=message.body,
        idempotency_key=message.idempotency_key,
        subject=message.subject,
        context=message.context,
        purpose=message.purpose,
        html_body=message.html_body,
        source=message.source,
        not_before=message.not_before,
        public_id=message.public_id,
        enqueue=enqueue,
    )


def _notification_for(idempotency_key: str) -> Notification | None:
    return Notification.objects.filter(idempotency_key=idempotency_key).first()


def _enqueue(notification_id: int) -> None:
    from customers.tasks import deliver_notification  # the task module imports this one

    deliver_notification.delay(notification_id)


def _enqueue_batch(notification_ids: list[int]) -> None:
    from customers.tasks import deliver_batch

    deliver_batch.delay(notification_ids)


def deliver_in_batches(notification_ids: Iterable[int], *, batch_size: int | None = None) -> int:
    """After the surrounding transaction commits, send one ``deliver_batch`` task per
    ``NOTIFICATION_BATCH_SIZE`` ids (for large sends recorded with ``enqueue=False``).
    Returns how many tasks."""
    ids = list(notification_ids)
    size = batch_size or settings.NOTIFICATION_BATCH_SIZE
    chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
    for chunk in chunks:
        transaction.on_commit(partial(_enqueue_batch, chunk), robust=True)
    return len(chunks)


def requeue_stranded(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Send again the tasks of messages that never got a delivery attempt (the broker was down
    when they were queued); returns how many. Delivery locks the row and skips anything no
    longer queued, so a message whose first task arrives late is still sent once."""
    now = now or timezone.now()
    cut = now - STRANDED_AFTER
    stranded = Notification.objects.filter(
        Q(send_after=None, created_at__lte=cut) | Q(send_after__lte=cut),
        status=Status.QUEUED,
        attempts=0,
    ).values_list("pk", flat=True)[:limit]
    ids = list(stranded)
    for notification_id in ids:
        _enqueue(notification_id)
    return len(ids)


def release_waiting(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Hand the waiting messages whose time came (quiet hours over, scheduled time reached) to
    delivery, oldest due first, in batches: per batch one locking read (rows another run is
    releasing are skipped) and one UPDATE, then a ``deliver_batch`` task after commit, which
    checks every rule again (a message still in quiet hours waits again). Returns how many."""
    now = now or timezone.now()
    size = batch_size or settings.NOTIFICATION_BATCH_SIZE
    released = 0
    while True:
        with transaction.atomic():
            ids = lock_waiting_notifications(due_by=now, limit=size)
            if not ids:
                return released
            Notification.objects.filter(pk__in=ids).update(
                status=Status.QUEUED, suppression_reason=""
            )
            transaction.on_commit(partial(_enqueue_batch, ids), robust=True)
        released += len(ids)
        if len(ids) < size:
            return released


def withdraw(*, source: str) -> int:
    """Call back every message of ``source`` (e.g. ``"campaign:<uuid>"``) that has not left:
    queued or waiting rows become suppressed as ``withdrawn``; sent ones stay as they are.
    One UPDATE; a row being delivered right now is locked, and once its delivery commits it is
    no longer queued, so it is not counted as withdrawn. Returns how many."""
    if not source:
        raise InvalidInput("Say whose messages to withdraw.", details={"source": ["Required."]})
    return Notification.objects.filter(
        source=source, status__in=[Status.QUEUED, Status.WAITING]
    ).update(status=Status.SUPPRESSED, suppression_reason=Reason.WITHDRAWN, send_after=None)


# --- Delivering -----------------------------------------------------------------------------


@dataclass
class Delivery:
    """What one pass of delivery did: each row's status, and the rows to try again later
    (with their attempts so far and the type of the error)."""

    statuses: dict[int, str] = field(default_factory=dict)
    retry: dict[int, tuple[int, str]] = field(default_factory=dict)


def deliver(*, notification_id: int, last_attempt: bool = True) -> str:
    """Send one queued message through its channel's backend; returns the row's status.

    The row is locked while it is sent, so a task delivered twice sends once (the second
    finds it no longer queued). Every rule is checked again (``respect.judge``): erasure, a
    lost address, withdrawn consent, a suppressed address or a cap reached since it was
    queued suppress it; quiet hours make it wait. A backend error is recorded and raised as
    ``DeliveryFailed`` for the task to retry, unless this was the ``last_attempt`` (or the
    row has had ``NOTIFICATION_MAX_ATTEMPTS``): then the row is ``failed``.
    """
    outcome = deliver_many([notification_id], last_attempt=last_attempt)
    status = outcome.statuses.get(notification_id)
    if status is None:
        logger.warning("Notification %s does not exist; nothing to deliver.", notification_id)
        return "missing"
    if notification_id in outcome.retry:
        # Celery logs this on every retry: the type only, as the text may name the address.
        _, error = outcome.retry[notification_id]
        raise DeliveryFailed(f"Notification {notification_id}: {error}")
    return status


def deliver_many(notification_ids: Sequence[int], *, last_attempt: bool = False) -> Delivery:
    """Send the queued messages among ``notification_ids`` (``deliver`` for many, as
    ``deliver_batch`` does): rows locked in one query, every rule judged for all of them in a
    fixed number of queries, the backend called per message, the rows written back in one
    statement. Rows no longer queued are left as they are (their status is reported).

    Marketing rows' customers are locked first, in id order (the order erasure and merge
    use), so two workers cannot both pass a frequency cap. The messages leave inside the
    transaction that marks them sent: if the process dies before it commits, they may be sent
    again (at least once); two live workers never both send one.
    """
    outcome = Delivery()
    with transaction.atomic():
        heads = list(
            Notification.objects.filter(pk__in=list(notification_ids)).values_list(
                "pk", "status", "kind", "customer__public_id"
            )
        )
        outcome.statuses.update({pk: status for pk, status, _, _ in heads})
        marketing = {
            public_id
            for _, status, kind, public_id in heads
            if status == Status.QUEUED and kind == Kind.MARKETING
        }
        if marketing:
            lock_customers(marketing)
        queued = [pk for pk, status, _, _ in heads if status == Status.QUEUED]
        locked = lock_notifications(queued)
        outcome.statuses.update({row.pk: row.status for row in locked})
        rows = [row for row in locked if row.status == Status.QUEUED]
        if not rows:
            return outcome
        verdicts = judge(
            [Candidate(r.customer, r.channel, r.kind, r.purpose, pk=r.pk) for r in rows],
            now=timezone.now(),
        )
        bounced: list[str] = []
        for row, verdict in zip(rows, verdicts, strict=True):
            if verdict.status == Status.QUEUED:
                _send(row, verdict, last_attempt=last_attempt, outcome=outcome, bounced=bounced)
            else:
                row.status, row.suppression_reason = verdict.status, verdict.reason
                row.send_after = verdict.send_after or row.send_after
            outcome.statuses[row.pk] = row.status
        Notification.objects.bulk_update(
            rows,
            [
                "status",
                "suppression_reason",
                "send_after",
                "attempts",
                "recipient",
                "last_error",
                "provider_id",
                "sent_at",
            ],
        )
        for address in bounced:
            # The messages have left: an address the list cannot hold must not undo that.
            with contextlib.suppress(InvalidInput):
                suppress_address(address=address, reason=SuppressedAddress.Reason.HARD_BOUNCE)
    return outcome


def _outgoing(row: Notification, address: str) -> OutgoingMessage:
    headers: dict[str, str] = {}
    unsubscribe_link = ""
    if row.kind == Kind.MARKETING:
        unsubscribe_link = unsubscribe_url(row.customer, row.channel, row.purpose)
        if row.channel == Notification.Channel.EMAIL:
            headers = unsubscribe_headers(unsubscribe_link)
    return OutgoingMessage(
        notification_id=row.pk,
        channel=row.channel,
        recipient=address,
        topic=row.topic,
        subject=row.subject,
        body=row.body,
        context=row.context,
        html_body=row.html_body if row.channel == Notification.Channel.EMAIL else "",
        headers=headers,
        unsubscribe_url=unsubscribe_link,
        public_id=row.public_id,
    )


def _send(
    row: Notification,
    verdict: Verdict,
    *,
    last_attempt: bool,
    outcome: Delivery,
    bounced: list[str],
) -> None:
    """One attempt at one message; the row is changed in memory, written by the caller."""
    row.attempts += 1
    row.recipient = verdict.address
    try:
        provider_id = backend_for(row.channel).send(_outgoing(row, verdict.address))
    except AddressRejected as rejected:
        row.status, row.last_error = Status.FAILED, f"AddressRejected: {rejected}"[:500]
        if row.channel != Notification.Channel.PUSH:
            bounced.append(verdict.address)
        logger.warning("Notification %s: the address was rejected (hard bounce).", row.pk)
    # Backends are pluggable (SMTP, HTTP providers), so any error they raise is a
    # failed attempt to record and retry, not a bug in this code.
    except Exception as raised:
        row.last_error = f"{type(raised).__name__}: {raised}"[:500]
        if last_attempt or row.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            row.status = Status.FAILED
            # The type only, as the text may name the address.
            logger.error(
                "Notification %s failed after its last attempt (%s).",
                row.pk,
                type(raised).__name__,
            )
        else:
            outcome.retry[row.pk] = (row.attempts, type(raised).__name__)
            logger.info("Notification %s: attempt failed (%s).", row.pk, type(raised).__name__)
    else:
        row.status, row.sent_at = Status.SENT, timezone.now()
        row.last_error, row.provider_id = "", (provider_id or "")[:255]


# --- Erasure --------------------------------------------------------------------------------


@register_erasure_handler
def forget_notifications(*, customer: Customer) -> None:
    """On erasure, the outbox keeps that messages were sent (topic, channel, dates, status) but
    not what they said or where they went; anything still queued or waiting is suppressed."""
    notifications = Notification.objects.filter(customer=customer)
    notifications.filter(status__in=[Status.QUEUED, Status.WAITING]).update(
        status=Status.SUPPRESSED, suppression_reason=Reason.ERASED
    )
    notifications.update(recipient="", subject="", body="", html_body="", context={}, last_error="")
