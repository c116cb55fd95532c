"""The global suppression list: addresses no marketing message goes to, whoever they belong
to; staff add them in the admin, and a hard bounce adds one."""

import pytest
from django.core import mail

from customers.models import Notification, SuppressedAddress
from customers.notifications import AddressRejected, deliver, notify, suppress_address
from omni.core.errors import InvalidInput
from tests.customers.outbox import consenting_customer, marketing

Status = Notification.Status
Reason = Notification.SuppressionReason

pytestmark = pytest.mark.django_db


class BouncingMailServer:
    def send(self, message):
        raise AddressRejected("550 5.1.1 mailbox does not exist")


def test_a_listed_e_mail_gets_no_marketing_whatever_its_case():
    suppress_address(address="Camille@Example.COM", reason="staff")
    camille = consenting_customer(email="camille@example.com")

    held = marketing(camille, "spring:camille")

    assert (held.status, held.suppression_reason) == (Status.SUPPRESSED, Reason.SUPPRESSED)
    assert SuppressedAddress.objects.get().address == "camille@example.com"


def test_a_listed_phone_is_matched_in_e164():
    suppress_address(address="06 12 34 56 78", reason="complaint")
    camille = consenting_customer("sms", phone="+33612345678")

    held = marketing(camille, "spring:sms", channel="sms")

    assert held.suppression_reason == Reason.SUPPRESSED


def test_transactional_messages_still_reach_a_listed_address():
    camille = consenting_customer(email="camille@example.com")
    suppress_address(address="camille@example.com", reason="staff")

    ready = notify(
        customer=camille,
        topic="orders.ready_for_pickup",
        channel="email",
        kind="transactional",
        body="Ready.",
        idempotency_key="order-ready:1",
    )

    assert ready.status == Status.QUEUED


def test_an_address_listed_after_queueing_is_held_back_when_the_message_leaves():
    camille = consenting_customer(email="camille@example.com")
    queued = marketing(camille, "spring:camille")
    suppress_address(address="camille@example.com", reason="staff")

    assert deliver(notification_id=queued.pk) == Status.SUPPRESSED
    assert mail.outbox == []


def test_a_hard_bounce_fails_the_message_at_once_and_lists_the_address(settings):
    settings.NOTIFICATION_BACKENDS = {
        **settings.NOTIFICATION_BACKENDS,
        "email": "tests.customers.test_suppression_list.BouncingMailServer",
    }
    camille = consenting_customer(email="camille@example.com")
    bounced = marketing(camille, "spring:camille")

    assert deliver(notification_id=bounced.pk, last_attempt=False) == Status.FAILED

    entry = SuppressedAddress.objects.get()
    assert (entry.address, entry.reason) == ("camille@example.com", "hard_bounce")
    assert marketing(camille, "shoes:camille").suppression_reason == Reason.SUPPRESSED


def test_something_that_is_no_address_is_refused():
    with pytest.raises(InvalidInput):
        suppress_address(address="not an address", reason="staff")
    assert not SuppressedAddress.objects.exists()


def test_staff_add_an_address_in_the_admin_normalised(admin_client):
    response = admin_client.post(
        "/admin/customers/suppressedaddress/add/",
        {"address": " Camille@Example.COM ", "reason": "staff", "note": "asked by phone"},
    )
    refused = admin_client.post(
        "/admin/customers/suppressedaddress/add/", {"address": "nonsense", "reason": "staff"}
    )

    assert response.status_code == 302
    assert SuppressedAddress.objects.get().address == "camille@example.com"
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["address"]
