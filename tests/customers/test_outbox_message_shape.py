"""What a message is made of: an HTML alternative for e-mail, its source, a scheduled time,
push's title and deep link, and the provider's id once sent."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from customers.models import Identity, Notification
from customers.notifications import MemoryBackend, deliver, notify, release_waiting
from omni.core.errors import InvalidInput
from tests.customers.outbox import consenting_customer, marketing

Status = Notification.Status
Reason = Notification.SuppressionReason
NOON = datetime(2026, 6, 10, 12, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def test_an_e_mail_goes_with_its_html_alternative_and_the_provider_id_is_kept():
    camille = consenting_customer()
    notification = marketing(
        camille, "spring:camille", body="Spring sale", html_body="<p>Spring <b>sale</b></p>"
    )

    deliver(notification_id=notification.pk)

    sent = mail.outbox[0]
    assert sent.body == "Spring sale"
    assert sent.alternatives[0][0] == "<p>Spring <b>sale</b></p>"
    assert sent.alternatives[0][1] == "text/html"
    notification.refresh_from_db()
    assert notification.provider_id == sent.extra_headers["Message-ID"]
    assert notification.html_body == "<p>Spring <b>sale</b></p>"


def test_the_source_says_what_produced_the_message():
    notification = marketing(consenting_customer(), "spring:1", source="campaign:3f2a")

    assert Notification.objects.get(source="campaign:3f2a") == notification


def test_a_push_has_a_title_and_a_deep_link(memory_backends):
    camille = consenting_customer("push")
    Identity.objects.create(customer=camille, kind=Identity.Kind.DEVICE, value="ios-device-42")
    notification = marketing(
        camille,
        "spring:push",
        channel="push",
        subject="Spring sale",
        body="-20 % on jackets",
        context={"link": "omni://offers/spring"},
    )

    deliver(notification_id=notification.pk)

    (pushed,) = MemoryBackend.sent
    assert (pushed.recipient, pushed.subject, pushed.body) == (
        "ios-device-42",
        "Spring sale",
        "-20 % on jackets",
    )
    assert pushed.context["link"] == "omni://offers/spring"
    notification.refresh_from_db()
    assert (notification.status, notification.provider_id) == (Status.SENT, "memory-1")


def test_a_scheduled_message_waits_for_its_time(time_machine, tasks_run_here, settings):
    settings.MARKETING_QUIET_HOURS = "21:00-08:00"
    time_machine.move_to(NOON, tick=False)
    camille = consenting_customer(time_zone="Europe/Paris")

    later = marketing(camille, "spring:later", not_before=NOON + timedelta(days=2))
    past = marketing(camille, "spring:past", not_before=NOON - timedelta(hours=1))

    assert (later.status, later.suppression_reason) == (Status.WAITING, Reason.SCHEDULED)
    assert later.send_after == NOON + timedelta(days=2)
    assert past.status == Status.QUEUED


def test_a_scheduled_message_without_consent_is_held_back_at_once():
    camille = consenting_customer("sms", phone="+33612345678")  # no e-mail consent

    held = marketing(camille, "spring:later", not_before=datetime(2030, 1, 1, tzinfo=UTC))

    assert (held.status, held.suppression_reason) == (Status.SUPPRESSED, Reason.NO_CONSENT)


def test_existing_callers_keep_working_with_the_old_arguments():
    notification = notify(
        customer=consenting_customer(),
        topic="orders.ready_for_pickup",
        channel="email",
        kind="transactional",
        subject="Ready",
        body="Ready.",
        context={"order": "1"},
        idempotency_key="order-ready:1",
    )

    assert (notification.status, notification.source, notification.html_body) == (
        Status.QUEUED,
        "",
        "",
    )


def test_a_source_too_long_is_refused():
    with pytest.raises(InvalidInput) as refused:
        marketing(consenting_customer(), "spring:long", source="campaign:" + "x" * 100)

    assert set(refused.value.details) == {"source"}
    assert not Notification.objects.exists()


def test_a_scheduled_transactional_message_waits_too_and_leaves_on_time(
    time_machine, tasks_run_here, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOON, tick=False)
    reminder = notify(
        customer=consenting_customer(),
        topic="orders.pickup_reminder",
        channel="email",
        kind="transactional",
        body="Your order waits for you until Saturday.",
        idempotency_key="order-reminder:1",
        not_before=NOON + timedelta(days=1),
    )
    assert (reminder.status, reminder.suppression_reason) == (Status.WAITING, Reason.SCHEDULED)

    time_machine.move_to(NOON + timedelta(days=1), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        release_waiting()

    reminder.refresh_from_db()
    assert reminder.status == Status.SENT
    assert len(mail.outbox) == 1
