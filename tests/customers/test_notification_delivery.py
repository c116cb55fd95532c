"""Delivery checks the rules again when the message leaves, and hands the backend everything.

Written for the changes `make mutation PATHS=customers/notifications.py` found no test failing.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from customers import notifications
from customers.models import ContactChannel, Notification
from customers.notifications import OutgoingMessage, deliver, notify, requeue_stranded
from omni.core.errors import InvalidInput
from tests.customers.factories import ConsentFactory, CustomerFactory

Status = Notification.Status
Reason = Notification.SuppressionReason

pytestmark = pytest.mark.django_db


class RecordingBackend:
    sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> None:
        type(self).sent.append(message)


class BrokenMailServer:
    """A Django e-mail backend whose server refuses every message (silently if asked to,
    as Django's SMTP backend does)."""

    def __init__(self, *args, fail_silently=False, **kwargs):
        self.fail_silently = fail_silently

    def send_messages(self, messages):
        if not self.fail_silently:
            raise ConnectionRefusedError("smtp.example.com refused the connection")
        return 0


def queued(customer, *, kind="transactional", key="order-ready:2001", **fields) -> Notification:
    """A queued row, as `notify` leaves it before its task runs."""
    return Notification.objects.create(
        customer=customer,
        channel=fields.pop("channel", "email"),
        kind=kind,
        purpose="marketing" if kind == "marketing" else "",
        topic="orders.ready_for_pickup",
        subject="Your order is ready",
        body="Come and collect order 2001.",
        context={"order": "2001"},
        idempotency_key=key,
        **fields,
    )


def test_marketing_consent_withdrawn_after_queueing_suppresses_the_message_at_delivery():
    customer = CustomerFactory()
    ConsentFactory(customer=customer, channel=ContactChannel.EMAIL, granted=True)
    notification = queued(customer, kind="marketing")
    ConsentFactory(customer=customer, channel=ContactChannel.EMAIL, granted=False)

    status = deliver(notification_id=notification.pk)

    notification.refresh_from_db()
    assert status == Status.SUPPRESSED
    assert (notification.status, notification.suppression_reason) == (
        Status.SUPPRESSED,
        Reason.NO_CONSENT,
    )
    assert notification.attempts == 0
    assert mail.outbox == []


def test_an_address_removed_after_queueing_suppresses_the_message_at_delivery():
    customer = CustomerFactory(phone="+33612345678")
    notification = queued(customer, channel="sms")
    customer.phone = ""
    customer.save(update_fields=["phone"])

    assert deliver(notification_id=notification.pk) == Status.SUPPRESSED

    notification.refresh_from_db()
    assert (notification.status, notification.suppression_reason) == (
        Status.SUPPRESSED,
        Reason.NO_ADDRESS,
    )


def test_the_backend_gets_the_whole_message(settings):
    settings.NOTIFICATION_BACKENDS = {
        **settings.NOTIFICATION_BACKENDS,
        "email": "tests.customers.test_notification_delivery.RecordingBackend",
    }
    RecordingBackend.sent = []
    customer = CustomerFactory()
    notification = queued(customer)

    assert deliver(notification_id=notification.pk) == Status.SENT

    assert RecordingBackend.sent == [
        OutgoingMessage(
            notification_id=notification.pk,
            channel="email",
            recipient=customer.email,
            topic="orders.ready_for_pickup",
            subject="Your order is ready",
            body="Come and collect order 2001.",
            context={"order": "2001"},
            public_id=notification.public_id,
        )
    ]


def test_a_mail_server_that_refuses_is_a_failed_delivery_not_a_sent_message(settings):
    settings.EMAIL_BACKEND = "tests.customers.test_notification_delivery.BrokenMailServer"
    notification = queued(CustomerFactory())

    # Called without last_attempt, delivery is final: the row is failed at once.
    assert deliver(notification_id=notification.pk) == Status.FAILED

    notification.refresh_from_db()
    assert notification.sent_at is None
    assert notification.last_error.startswith("ConnectionRefusedError")


def test_delivering_a_message_that_does_not_exist_is_missing_and_sends_nothing():
    assert deliver(notification_id=987654) == "missing"
    assert mail.outbox == []


def test_only_queued_messages_never_tried_are_queued_again(monkeypatch):
    customer = CustomerFactory()
    long_ago = timezone.now() - timedelta(minutes=30)
    stranded = queued(customer, key="n:stranded")
    waiting_for_a_retry = queued(customer, key="n:retrying", attempts=1)
    suppressed = queued(
        customer, key="n:suppressed", status=Status.SUPPRESSED, suppression_reason=Reason.ERASED
    )
    Notification.objects.update(created_at=long_ago)
    enqueued = []
    monkeypatch.setattr(notifications, "_enqueue", enqueued.append)

    assert requeue_stranded() == 1

    assert enqueued == [stranded.pk]
    assert waiting_for_a_retry.pk not in enqueued
    assert suppressed.pk not in enqueued


def test_the_outbox_keeps_what_was_asked_and_no_purpose_for_a_transactional_message():
    customer = CustomerFactory()

    notification = notify(
        customer=customer,
        topic="orders.ready_for_pickup",
        channel="email",
        kind="transactional",
        subject="Your order is ready",
        body="Come and collect order 2001.",
        context={"order": "2001"},
        idempotency_key="order-ready:2001",
        purpose="marketing",  # ignored: a transactional message needs no consent
    )

    stored = Notification.objects.get(pk=notification.pk)
    assert (stored.kind, stored.channel, stored.purpose) == ("transactional", "email", "")
    assert (stored.subject, stored.body) == ("Your order is ready", "Come and collect order 2001.")
    assert stored.context == {"order": "2001"}
    assert (stored.status, stored.suppression_reason) == (Status.QUEUED, "")


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"body": "   "}, "body"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"kind": "marketing", "purpose": "gossip"}, "purpose"),
        ({"channel": "push"}, "channel"),  # a channel with no backend configured
    ],
)
def test_each_wrong_term_of_a_notification_is_named_and_nothing_is_recorded(settings, terms, field):
    settings.NOTIFICATION_BACKENDS = {
        name: path for name, path in settings.NOTIFICATION_BACKENDS.items() if name != "push"
    }
    asked = {
        "channel": "email",
        "kind": "transactional",
        "body": "Ready.",
        "idempotency_key": "order-ready:2002",
        **terms,
    }

    with pytest.raises(InvalidInput) as refused:
        notify(customer=CustomerFactory(), topic="orders.ready_for_pickup", **asked)

    assert list(refused.value.details) == [field]
    assert refused.value.details[field]
    assert not Notification.objects.exists()
