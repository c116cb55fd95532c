"""The notification service: consent rules, the outbox, delivery after commit, backends."""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from customers import notifications
from customers.models import ConsentPurpose, ContactChannel, Identity, Notification
from customers.notifications import DeliveryFailed, deliver, notify, requeue_stranded
from customers.services import erase_customer
from customers.tasks import deliver_notification
from omni.celery import app as celery_app
from omni.core.errors import InvalidInput
from tests.customers.factories import ConsentFactory, CustomerFactory

Status = Notification.Status
Reason = Notification.SuppressionReason


@pytest.fixture
def tasks_run_here():
    """Tasks sent after commit run in this process instead of going to a broker."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


class BrokenBackend:
    def send(self, message):
        raise ConnectionRefusedError("smtp.example.com refused the connection")


def send(customer, *, kind="transactional", channel="email", key="order-ready:1001", **extra):
    return notify(
        customer=customer,
        topic=extra.pop("topic", "orders.ready_for_pickup"),
        channel=channel,
        kind=kind,
        subject=extra.pop("subject", "Your order is ready"),
        body=extra.pop("body", "Come and collect order 1001 with code 4821."),
        context=extra.pop("context", {"order": "1001"}),
        idempotency_key=key,
        **extra,
    )


@pytest.mark.django_db
def test_marketing_without_consent_is_suppressed_and_recorded(
    django_capture_on_commit_callbacks,
):
    customer = CustomerFactory()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = send(customer, kind="marketing", topic="campaigns.spring", key="spring:1")

    assert notification.status == Status.SUPPRESSED
    assert notification.suppression_reason == Reason.NO_CONSENT
    assert notification.purpose == ConsentPurpose.MARKETING
    assert Notification.objects.get().idempotency_key == "spring:1"
    assert callbacks == []
    assert mail.outbox == []


@pytest.mark.django_db
def test_marketing_after_consent_was_withdrawn_is_suppressed():
    customer = CustomerFactory()
    ConsentFactory(customer=customer, channel=ContactChannel.EMAIL, granted=True)
    ConsentFactory(customer=customer, channel=ContactChannel.EMAIL, granted=False)

    notification = send(customer, kind="marketing", key="spring:2")

    assert notification.suppression_reason == Reason.NO_CONSENT


@pytest.mark.django_db
def test_marketing_with_consent_for_that_channel_is_sent(
    tasks_run_here, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    ConsentFactory(customer=customer, channel=ContactChannel.EMAIL, granted=True)

    with django_capture_on_commit_callbacks(execute=True):
        notification = send(customer, kind="marketing", subject="Spring sale", key="spring:3")

    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert [m.subject for m in mail.outbox] == ["Spring sale"]
    assert mail.outbox[0].to == [customer.email]


@pytest.mark.django_db
def test_marketing_consent_for_e_mail_does_not_allow_sms():
    customer = CustomerFactory(phone="+33612345678")
    ConsentFactory(customer=customer, channel=ContactChannel.EMAIL, granted=True)

    notification = send(customer, kind="marketing", channel="sms", key="spring:4")

    assert notification.suppression_reason == Reason.NO_CONSENT


@pytest.mark.django_db
def test_a_transactional_message_is_sent_without_marketing_consent(
    tasks_run_here, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()

    with django_capture_on_commit_callbacks(execute=True):
        notification = send(customer)

    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert notification.recipient == customer.email
    assert notification.attempts == 1
    assert notification.sent_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].body == "Come and collect order 1001 with code 4821."


@pytest.mark.django_db
def test_an_erased_customer_is_never_sent_even_a_transactional_message(
    django_capture_on_commit_callbacks,
):
    customer = CustomerFactory()
    erase_customer(customer=customer, requested_via="admin")
    customer.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = send(customer)

    assert notification.status == Status.SUPPRESSED
    assert notification.suppression_reason == Reason.ERASED
    assert callbacks == []


@pytest.mark.django_db
def test_a_channel_without_an_address_is_suppressed():
    customer = CustomerFactory(phone="")

    sms = send(customer, channel="sms", key="order-ready:sms")
    push = send(customer, channel="push", key="order-ready:push")

    assert (sms.status, sms.suppression_reason) == (Status.SUPPRESSED, Reason.NO_ADDRESS)
    assert (push.status, push.suppression_reason) == (Status.SUPPRESSED, Reason.NO_ADDRESS)


@pytest.mark.django_db
def test_sms_and_push_go_through_the_console_backend(
    tasks_run_here, django_capture_on_commit_callbacks, caplog
):
    customer = CustomerFactory(phone="+33612345678")
    Identity.objects.create(customer=customer, kind=Identity.Kind.DEVICE, value="ios-device-42")

    with (
        caplog.at_level(logging.INFO, logger="customers.notifications"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sms = send(customer, channel="sms", key="order-ready:sms")
        push = send(customer, channel="push", key="order-ready:push")

    sms.refresh_from_db()
    push.refresh_from_db()
    assert (sms.status, sms.recipient) == (Status.SENT, "+33612345678")
    assert (push.status, push.recipient) == (Status.SENT, "ios-device-42")
    assert f"Notification {sms.pk} (sms, orders.ready_for_pickup) not sent" in caplog.text
    assert f"Notification {push.pk} (push, orders.ready_for_pickup) not sent" in caplog.text
    assert mail.outbox == []


@pytest.mark.django_db
def test_nothing_is_sent_or_kept_when_the_surrounding_transaction_rolls_back(
    tasks_run_here, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()

    def checkout_that_fails():
        with transaction.atomic():
            send(customer)
            raise RuntimeError("checkout failed after the notice was queued")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        checkout_that_fails()

    assert callbacks == []
    assert not Notification.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_delivery_waits_for_the_commit(tasks_run_here, django_capture_on_commit_callbacks):
    customer = CustomerFactory()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = send(customer)
        assert mail.outbox == []

    assert len(callbacks) == 1
    callbacks[0]()
    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_same_idempotency_key_gives_one_row_and_one_message(
    tasks_run_here, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = send(customer, key="order-ready:1001")
        again = send(customer, key="order-ready:1001", body="A different text")

    assert again.pk == first.pk
    assert Notification.objects.count() == 1
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_message_delivered_twice_is_sent_once(tasks_run_here, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = send(CustomerFactory())

    status = deliver(notification_id=notification.pk)  # e.g. the broker redelivered the task

    assert status == Status.SENT
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_failing_backend_is_retried_then_the_message_is_marked_failed(settings):
    settings.NOTIFICATION_BACKENDS = {
        **settings.NOTIFICATION_BACKENDS,
        "email": "tests.customers.test_notifications.BrokenBackend",
    }
    notification = Notification.objects.create(
        customer=CustomerFactory(),
        channel="email",
        kind="transactional",
        topic="orders.ready_for_pickup",
        body="Ready.",
        idempotency_key="order-ready:1002",
    )

    with pytest.raises(DeliveryFailed):
        deliver(notification_id=notification.pk, last_attempt=False)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.QUEUED, 1)
    assert "ConnectionRefusedError" in notification.last_error

    assert deliver(notification_id=notification.pk, last_attempt=True) == Status.FAILED
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.FAILED, 2)


@pytest.mark.django_db
def test_a_customer_erased_after_queueing_is_not_sent_and_the_outbox_forgets_the_text():
    customer = CustomerFactory()
    notification = send(customer)  # queued; its commit callback never runs in this test
    erase_customer(customer=customer, requested_via="admin")

    assert deliver(notification_id=notification.pk) == Status.SUPPRESSED
    notification.refresh_from_db()
    assert notification.suppression_reason == Reason.ERASED
    assert (notification.subject, notification.body, notification.context) == ("", "", {})
    assert notification.topic == "orders.ready_for_pickup"
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_unknown_channel_or_kind_is_refused_and_records_nothing():
    customer = CustomerFactory()

    with pytest.raises(InvalidInput) as refused:
        send(customer, channel="fax", kind="gossip")

    assert set(refused.value.details) == {"channel", "kind"}
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_the_outbox_in_the_admin_is_read_only_and_found_by_customer_e_mail(admin_client):
    camille = CustomerFactory(email="camille@example.com")
    kept = send(camille, kind="marketing", key="spring:camille")
    send(CustomerFactory(), kind="marketing", key="spring:other")

    found = admin_client.get(
        "/admin/customers/notification/", {"q": "camille@example.com", "status": "suppressed"}
    )
    page = admin_client.get(f"/admin/customers/notification/{kept.pk}/change/")

    assert list(found.context["cl"].result_list) == [kept]
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.get("/admin/customers/notification/add/").status_code == 403


@pytest.fixture
def locmem_mail_in_workers(monkeypatch):
    """Worker processes started after this send e-mail into their own in-memory outbox."""
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_the_message_after_commit(
    locmem_mail_in_workers, live_celery_worker
):
    customer = CustomerFactory()

    notification = send(customer, key="order-ready:live")  # autocommit: the task leaves now

    # Wait on a second delivery task's result: whichever task runs first sends, the other
    # finds the row sent; both answer "sent" once the message is out.
    assert deliver_notification.delay(notification.pk).get(timeout=60) == Status.SENT
    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert notification.recipient == customer.email
    assert notification.attempts == 1


@pytest.mark.django_db
def test_a_message_whose_task_never_reached_the_broker_is_queued_again(monkeypatch):
    customer = CustomerFactory()
    stranded = send(customer, key="order-ready:stranded")
    recent = send(customer, key="order-ready:recent")
    Notification.objects.filter(pk=stranded.pk).update(
        created_at=timezone.now() - timedelta(minutes=30)
    )
    enqueued = []
    monkeypatch.setattr(notifications, "_enqueue", enqueued.append)

    assert requeue_stranded() == 1

    assert enqueued == [stranded.pk]
    assert recent.pk not in enqueued
